using System.Globalization;
using System.Text;
using TraceProf.AspNetCore.Endpoints;

namespace TraceProf.AspNetCore.Ui;

/// <summary>The trace page's span table: which span was slow, and which code in it (issue 20).</summary>
internal sealed partial class UiEndpoints
{
    /// <summary>The most spans the trace page lists; the JSON (<c>/traces/{id}/spans?limit=</c>) gives more.</summary>
    private const int SpanTableRows = 100;

    /// <summary>
    /// Appends the span table of a trace: a row per span in every service, each linking to its own flame graph; the
    /// slowest span and the biggest hot spot (the top frame with the most CPU in any span) are marked.
    /// </summary>
    private async Task AppendSpanTableAsync(StringBuilder html, string traceId, CancellationToken cancellationToken)
    {
        var table = await TraceSpanTable.BuildAsync(_store, traceId, SpanTableRows, cancellationToken).ConfigureAwait(false);
        if (table.Rows.Count == 0)
        {
            return;
        }

        var slowest = table.Rows.MaxBy(r => r.EndMicroseconds - r.StartMicroseconds);
        var hottest = table.Rows.Where(r => r.Frames.Count > 0).MaxBy(r => r.Frames[0].CpuNanoseconds);
        static string Ms(double ms) => ms.ToString("N1", CultureInfo.InvariantCulture) + " ms";

        html.Append("<section class=\"spans\" aria-labelledby=\"spans-title\"><h2 id=\"spans-title\">Spans</h2><table id=\"spans\"><caption>")
            .Append(table.Rows.Count.ToString(CultureInfo.InvariantCulture)).Append(table.Rows.Count == 1 ? " span" : " spans")
            .Append(table.TotalSpans > table.Rows.Count ? $" of {table.TotalSpans.ToString(CultureInfo.InvariantCulture)}" : "")
            .Append(" by start, each sample counted once. Duration from the span's own start and end where TraceProf tracked it, else (*) first to last sample. Times in UTC.</caption>")
            .Append("<thead><tr><th scope=\"col\">Service</th><th scope=\"col\">Span</th><th scope=\"col\">Route</th><th scope=\"col\">Start</th>")
            .Append("<th scope=\"col\" class=\"num\">Duration</th><th scope=\"col\" class=\"num\">CPU</th><th scope=\"col\" class=\"num\">Wall</th>")
            .Append("<th scope=\"col\" class=\"num\">Wait</th><th scope=\"col\" class=\"num\">Allocated</th><th scope=\"col\" class=\"num\">Samples</th><th scope=\"col\">Top frames (flat CPU)</th></tr></thead><tbody>");
        foreach (var row in table.Rows)
        {
            var isSlowest = ReferenceEquals(row, slowest) && table.Rows.Count > 1;
            var profileUrl = $"{_options.PathPrefix}/traces/{traceId}?spanId={row.SpanId}&format=speedscope";
            var href = $"{UiPath}/speedscope/{SpeedscopeAssets.IndexFile}#profileURL={UiHtml.Url(profileUrl)}&title={UiHtml.Url($"span {row.SpanId} ({row.ServiceName})")}";
            html.Append(isSlowest ? "<tr class=\"slowest\">" : "<tr>")
                .Append("<td>").Append(UiHtml.Text(row.ServiceName)).Append("</td>")
                .Append("<td><a class=\"id\" href=\"").Append(UiHtml.Text(href)).Append("\" title=\"this span's flame graph\">").Append(UiHtml.Text(row.SpanId)).Append("</a></td>")
                .Append("<td>").Append(UiHtml.Text(row.Method is null ? row.Route : $"{row.Method} {row.Route}")).Append("</td>")
                .Append("<td>").Append(UiHtml.Text(TraceSpanTable.FormatTime(row.StartMicroseconds)[11..^1])).Append("</td>")
                .Append("<td class=\"num\">").Append(UiHtml.Text(Ms((row.EndMicroseconds - row.StartMicroseconds) / 1000.0)))
                .Append(row.DurationSource == "samples" ? " *" : "").Append(isSlowest ? " <strong class=\"badge\">slowest</strong>" : "").Append("</td>")
                .Append("<td class=\"num\">").Append(UiHtml.Text(Ms(row.CpuNanoseconds / 1e6))).Append("</td>")
                .Append("<td class=\"num\">").Append(UiHtml.Text(row.WallNanoseconds is { } wall ? Ms(wall / 1e6) : "—")).Append("</td>")
                .Append("<td class=\"num\">").Append(UiHtml.Text(row.WaitNanoseconds is { } wait ? Ms(wait / 1e6) : "—")).Append("</td>")
                .Append("<td class=\"num\">").Append(UiHtml.Text(row.AllocatedBytes is { } bytes ? UiHtml.Size(bytes) : "—")).Append("</td>")
                .Append("<td class=\"num\">").Append(row.Samples.ToString("N0", CultureInfo.InvariantCulture)).Append("</td><td><ol class=\"frames\">");
            for (var i = 0; i < Math.Min(3, row.Frames.Count); i++)
            {
                var frame = row.Frames[i];
                var isHotSpot = i == 0 && ReferenceEquals(row, hottest);
                html.Append(isHotSpot ? "<li class=\"hotspot\">" : "<li>").Append("<code>").Append(UiHtml.Text(frame.Function)).Append("</code> ")
                    .Append((frame.Share * 100).ToString("F0", CultureInfo.InvariantCulture)).Append(" %")
                    .Append(isHotSpot ? " <strong class=\"badge\">biggest hot spot</strong>" : "").Append("</li>");
            }

            html.Append("</ol></td></tr>");
        }

        html.Append("</tbody></table></section>");
    }
}
