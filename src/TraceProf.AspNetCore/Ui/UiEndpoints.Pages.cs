using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using TraceProf.AspNetCore.Endpoints;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Ui;

/// <summary>The snapshot browser's pages: the list with its filters, one trace, one snapshot, and their table and links.</summary>
internal sealed partial class UiEndpoints
{
    private async Task ListAsync(HttpContext context, UiContext ui)
    {
        var query = context.Request.Query;
        var traceId = Filter(query, "traceId")?.ToLowerInvariant();
        var kind = Filter(query, "kind");
        var trigger = Filter(query, "trigger");
        string? error = null;
        var limit = DefaultLimit;
        if (traceId is not null && !TraceIds.IsValid(traceId))
        {
            error = $"A trace id is 32 hex digits, not all zero (as in a traceparent header or a log line); got '{QueryParser.Echo(traceId)}'.";
        }
        else if (!IsWord(kind) || !IsTriggerPrefix(trigger))
        {
            error = $"kind is a single word of letters, digits, '-' or '_', and trigger the start of a snapshot's trigger (for example status:5 or slow:), letters, digits or : . _ - % + (each at most {MaxFilterLength}).";
        }
        else if (query["limit"].ToString() is { Length: > 0 } rawLimit && // untrimmed: " 5" is as wrong here as in the API
                 (!QueryParser.TryParseDigits(rawLimit, out limit) || limit < 1 || limit > SnapshotQuery.MaxLimit))
        {
            error = $"limit must be an integer from 1 to {SnapshotQuery.MaxLimit}; got '{QueryParser.Echo(rawLimit)}'.";
        }

        var main = new StringBuilder();
        AppendThreadPool(main);
        AppendFilterForm(main, traceId, kind, trigger);
        if (error is not null)
        {
            main.Append("<p class=\"error\" role=\"alert\">").Append(UiHtml.Text(error)).Append("</p>");
            await UiHtml.WriteAsync(context, StatusCodes.Status400BadRequest, UiHtml.Page(ui, "Snapshots", main.ToString())).ConfigureAwait(false);
            return;
        }

        // The store filters by trace id, kind and trigger prefix (indexed in both stores).
        var shown = await _store.ListAsync(
            new SnapshotQuery { TraceId = traceId, Kind = kind, Trigger = trigger, Limit = limit },
            context.RequestAborted).ConfigureAwait(false);
        AppendTable(main, shown, traceId is not null || kind is not null || trigger is not null);
        await UiHtml.WriteAsync(context, StatusCodes.Status200OK, UiHtml.Page(ui, "Snapshots", main.ToString())).ConfigureAwait(false);
    }

    // One line of the pool's state and what the starvation trigger saw, with a link to its snapshots.
    private void AppendThreadPool(StringBuilder main)
    {
        var pool = _index.ThreadPoolStatus();
        main.Append(CultureInfo.InvariantCulture, $"<p class=\"threadpool\">Thread pool: {pool.ThreadCount} threads, {pool.PendingWorkItemCount} queued");
        if (pool.StarvationAdjustments is { } starvation)
        {
            main.Append(CultureInfo.InvariantCulture, $"; starvation adjustments seen: {starvation}, injections for blocked workers: {pool.BlockingInjections}");
            if (pool.LastStarvationSecondsAgo is { } ago)
            {
                main.Append(CultureInfo.InvariantCulture, $" (last {ago} s ago)");
            }

            var href = $"{UiPath}/?trigger={UiHtml.Url("threadpool:starvation")}";
            main.Append(CultureInfo.InvariantCulture, $"; <a href=\"{UiHtml.Text(href)}\">{pool.StarvationSnapshots} starvation snapshot pairs</a>");
        }

        main.Append(".</p>");
    }

    private async Task TraceAsync(HttpContext context, UiContext ui)
    {
        var traceId = (context.Request.RouteValues["traceId"] as string ?? "").Trim().ToLowerInvariant();
        if (!TraceIds.IsValid(traceId))
        {
            var detail = $"A trace id is 32 hex digits, not all zero; got '{QueryParser.Echo(traceId)}'.";
            await UiHtml.WriteAsync(context, StatusCodes.Status400BadRequest, UiHtml.Page(ui, "Trace", $"<p class=\"error\" role=\"alert\">{UiHtml.Text(detail)}</p>")).ConfigureAwait(false);
            return;
        }

        var rows = await _store.ListAsync(new SnapshotQuery { TraceId = traceId, Limit = SnapshotQuery.MaxLimit }, context.RequestAborted).ConfigureAwait(false);
        var main = new StringBuilder();
        var services = rows.Select(r => r.ServiceName).Distinct(StringComparer.Ordinal).ToList();
        main.Append("<p>Trace <span class=\"id\">").Append(UiHtml.Text(traceId)).Append("</span>: ")
            .Append(rows.Count.ToString(CultureInfo.InvariantCulture)).Append(rows.Count == 1 ? " snapshot" : " snapshots")
            .Append(services.Count > 0 ? " from " + UiHtml.Text(string.Join(", ", services)) : "").Append(".</p>");
        var kinds = rows.Select(r => r.Kind).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        await AppendSpanTableAsync(main, traceId, context.RequestAborted).ConfigureAwait(false);
        if (kinds.Count > 0)
        {
            // One merged flame graph per kind: every service's samples of this trace, one speedscope profile per service.
            main.Append("<p>Whole trace, merged across snapshots and services: ");
            main.AppendJoin(", ", kinds.Select(kind =>
            {
                var profileUrl = $"{_options.PathPrefix}/traces/{traceId}?kind={kind}&format=speedscope";
                var href = $"{UiPath}/speedscope/{SpeedscopeAssets.IndexFile}#profileURL={UiHtml.Url(profileUrl)}&title={UiHtml.Url($"trace {traceId} ({kind})")}";
                return $"<a href=\"{UiHtml.Text(href)}\">{UiHtml.Text(kind)} flame graph</a>";
            }));
            main.Append(".</p>");
        }

        await AppendWhereItWaitsAsync(main, traceId, rows, context.RequestAborted).ConfigureAwait(false);
        AppendTable(main, rows, filtered: true);
        await UiHtml.WriteAsync(context, StatusCodes.Status200OK, UiHtml.Page(ui, "Trace " + traceId, main.ToString())).ConfigureAwait(false);
    }

    private async Task SnapshotAsync(HttpContext context, UiContext ui)
    {
        var id = context.Request.RouteValues["id"] as string ?? "";
        var snapshot = SnapshotIds.IsValid(id) ? await _store.GetAsync(id, context.RequestAborted).ConfigureAwait(false) : null;
        if (snapshot is null)
        {
            var detail = SnapshotIds.IsValid(id)
                ? $"No snapshot with id {id}; it may have been removed by retention."
                : $"A snapshot id is 32 lower-case hex digits; got '{QueryParser.Echo(id)}'.";
            var status = SnapshotIds.IsValid(id) ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest;
            await UiHtml.WriteAsync(context, status, UiHtml.Page(ui, "Snapshot", $"<p class=\"error\" role=\"alert\">{UiHtml.Text(detail)}</p>")).ConfigureAwait(false);
            return;
        }

        var main = new StringBuilder("<table><tbody>");
        void Row(string name, string htmlValue) => main.Append("<tr><th scope=\"row\">").Append(name).Append("</th><td>").Append(htmlValue).Append("</td></tr>");
        Row("Snapshot id", $"<span class=\"id\">{UiHtml.Text(snapshot.Id)}</span>");
        Row("Trace id", TraceLink(snapshot.TraceId));
        Row("Span id", $"<span class=\"id\">{UiHtml.Text(snapshot.SpanId)}</span>");
        Row("Kind", UiHtml.Text(snapshot.Kind));
        Row("Trigger", UiHtml.Text(snapshot.Trigger));
        Row("Status", UiHtml.Text(snapshot.Status));
        Row("Service", UiHtml.Text(snapshot.ServiceName));
        Row("Host", UiHtml.Text(snapshot.HostName));
        Row("Started (UTC)", Time(snapshot.StartedAt));
        Row("Duration", UiHtml.Text(UiHtml.Duration(snapshot.Duration)));
        Row("Samples", UiHtml.Text(snapshot.SampleCount.ToString("N0", CultureInfo.InvariantCulture)));
        Row("Size", UiHtml.Text($"pprof {UiHtml.Size(snapshot.ProfileBytes)}, nettrace {UiHtml.Size(snapshot.NettraceBytes)}"));
        Row("Open", FlameGraphLink(snapshot));
        Row("Download", Downloads(snapshot));
        main.Append("</tbody></table>");
        await UiHtml.WriteAsync(context, StatusCodes.Status200OK, UiHtml.Page(ui, "Snapshot " + snapshot.Id, main.ToString())).ConfigureAwait(false);
    }

    private void AppendFilterForm(StringBuilder html, string? traceId, string? kind, string? trigger)
    {
        html.Append("<form class=\"filters\" method=\"get\" action=\"").Append(UiHtml.Text(UiPath)).Append("/\" role=\"search\">")
            .Append("<label for=\"traceId\">Trace id<input id=\"traceId\" name=\"traceId\" value=\"").Append(UiHtml.Text(traceId))
            .Append("\" placeholder=\"32 hex digits from a log or traceparent\" autocomplete=\"off\" spellcheck=\"false\"></label>")
            .Append("<label for=\"kind\">Kind<input id=\"kind\" name=\"kind\" value=\"").Append(UiHtml.Text(kind)).Append("\" placeholder=\"cpu\" size=\"10\"></label>")
            .Append("<label for=\"trigger\">Trigger<input id=\"trigger\" name=\"trigger\" value=\"").Append(UiHtml.Text(trigger)).Append("\" placeholder=\"request\" size=\"10\"></label>")
            .Append("<button type=\"submit\">Filter</button> <a href=\"").Append(UiHtml.Text(UiPath)).Append("/\">Clear</a></form>");
    }

    private void AppendTable(StringBuilder html, IReadOnlyList<SnapshotInfo> rows, bool filtered)
    {
        if (rows.Count == 0)
        {
            html.Append("<p>").Append(filtered ? "No snapshot matches these filters." : "No snapshots yet: take a profile from the ")
                .Append(filtered ? "" : $"<a href=\"{UiHtml.Text(_options.PathPrefix)}/pprof/\">pprof index</a>.").Append("</p>");
            return;
        }

        html.Append("<table><caption class=\"note\">").Append(rows.Count.ToString(CultureInfo.InvariantCulture))
            .Append(rows.Count == 1 ? " snapshot" : " snapshots, newest first").Append(". Times in UTC.</caption><thead><tr><th scope=\"col\">Started</th><th scope=\"col\">Trace id</th>")
            .Append("<th scope=\"col\">Kind</th><th scope=\"col\">Trigger</th><th scope=\"col\">Service</th><th scope=\"col\" class=\"num\">Duration</th>")
            .Append("<th scope=\"col\" class=\"num\">Size</th><th scope=\"col\">Flame graph</th><th scope=\"col\">Download</th></tr></thead><tbody>");
        foreach (var row in rows)
        {
            html.Append("<tr><td><a href=\"").Append(UiHtml.Text($"{UiPath}/snapshots/{row.Id}")).Append("\">").Append(Time(row.StartedAt)).Append("</a></td>")
                .Append("<td>").Append(TraceLink(row.TraceId)).Append("</td>")
                .Append("<td>").Append(UiHtml.Text(row.Kind)).Append("</td>")
                .Append("<td>").Append(UiHtml.Text(row.Trigger)).Append("</td>")
                .Append("<td>").Append(UiHtml.Text(row.ServiceName)).Append("</td>")
                .Append("<td class=\"num\">").Append(UiHtml.Text(UiHtml.Duration(row.Duration))).Append("</td>")
                .Append("<td class=\"num\">").Append(UiHtml.Text(UiHtml.Size(row.ProfileBytes + row.NettraceBytes))).Append("</td>")
                .Append("<td>").Append(FlameGraphLink(row)).Append("</td>")
                .Append("<td>").Append(Downloads(row)).Append("</td></tr>");
        }

        html.Append("</tbody></table>");
    }

    private string TraceLink(string traceId) =>
        $"<a class=\"id\" href=\"{UiHtml.Text($"{UiPath}/traces/{traceId}")}\">{UiHtml.Text(traceId)}</a>";

    private string FlameGraphLink(SnapshotInfo row)
    {
        // speedscope loads #profileURL= with fetch() from the same origin, so the browser's session cookie goes along.
        var profileUrl = $"{_options.PathPrefix}/snapshots/{row.Id}?format=speedscope";
        var title = $"{row.ServiceName} {row.Kind} {row.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC";
        var href = $"{UiPath}/speedscope/{SpeedscopeAssets.IndexFile}#profileURL={UiHtml.Url(profileUrl)}&title={UiHtml.Url(title)}";
        return $"<a href=\"{UiHtml.Text(href)}\" aria-label=\"Flame graph of snapshot {UiHtml.Text(row.Id)}\">open</a>";
    }

    private string Downloads(SnapshotInfo row)
    {
        var formats = row.NettraceBytes > 0 ? new[] { "pprof", "speedscope", "folded", "nettrace" } : ["pprof", "speedscope", "folded"];
        return string.Join(" · ", formats.Select(f =>
            $"<a href=\"{UiHtml.Text($"{_options.PathPrefix}/snapshots/{row.Id}?format={f}")}\" download>{f}</a>"));
    }

    private static string Time(DateTimeOffset time) =>
        $"<time datetime=\"{UiHtml.Text(time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))}\">{UiHtml.Text(time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))}</time>";

    private static string? Filter(IQueryCollection query, string name)
    {
        // A GET form sends empty fields; an empty filter means "any".
        var value = query[name].ToString().Trim();
        return value.Length == 0 ? null : value;
    }

    private static bool IsTriggerPrefix(string? value) =>
        value is null || (value.Length <= MaxFilterLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '.' or '_' or '-' or '%' or '+'));

    private static bool IsWord(string? value) =>
        value is null || (value.Length <= MaxFilterLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
}
