using System.Diagnostics;
using System.Globalization;
using System.Text;
using TraceProf.AspNetCore.Endpoints;
using TraceProf.Attribution;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Kinds.Tasks;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Ui;

/// <summary>The trace page's "where it waits" section: an in-flight or stuck request of the trace, and its async chain.</summary>
internal sealed partial class UiEndpoints
{
    /// <summary>
    /// For a trace with a request in flight here: its route, age and whether it runs on a thread or awaits; and the
    /// chain it awaits in, from the newest stored tasks snapshot that holds the trace (a tasks snapshot lists the traces of
    /// its chains). Nothing when the trace is neither in flight nor in a tasks snapshot.
    /// </summary>
    private async Task AppendWhereItWaitsAsync(StringBuilder main, string traceId, IReadOnlyList<SnapshotInfo> rows, CancellationToken cancellationToken)
    {
        var inFlight = InFlightRequests.All().Where(r => r.TraceId.ToHexString() == traceId).ToList();
        var tasks = rows.Where(r => r.Kind == CaptureKinds.Name(CaptureKind.Tasks)).MaxBy(r => r.StartedAt);
        if (inFlight.Count == 0 && tasks is null)
        {
            return;
        }

        main.Append("<section aria-labelledby=\"waits\"><h2 id=\"waits\">Where it waits</h2>");
        if (inFlight.Count > 0)
        {
            WaitEndpoints.FillRoutes(inFlight);
            var threads = TimelineRecorder.CurrentSpans().Where(t => t.TraceId.ToHexString() == traceId).ToList();
            main.Append("<ul>");
            foreach (var request in inFlight)
            {
                var on = threads.Where(t => t.RootSpanId == request.SpanId).Select(t => t.OsThreadId.ToString(CultureInfo.InvariantCulture)).ToList();
                main.Append("<li>In flight now: ").Append(UiHtml.Text(request.Request.Method)).Append(' ')
                    .Append(UiHtml.Text(request.Request.Route ?? "(route not chosen yet)"))
                    .Append(", for ").Append(Stopwatch.GetElapsedTime(request.StartedTimestamp).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)).Append(" s, ")
                    .Append(on.Count > 0 ? "on OS thread " + UiHtml.Text(string.Join(", ", on)) : "awaiting (on no thread)")
                    .Append(".</li>");
            }

            main.Append("</ul><p><a href=\"").Append(UiHtml.Text($"{_options.PathPrefix}/pprof/tasks?debug=2")).Append("\">Take a tasks snapshot</a> (one heap walk) to see the async chain every request awaits in.</p>");
        }

        if (tasks is not null)
        {
            await using var artifact = await _store.OpenArtifactAsync(tasks.Id, SnapshotArtifact.Pprof, cancellationToken).ConfigureAwait(false);
            if (artifact is not null)
            {
                var profile = PprofDecoder.Decode(artifact);
                var chains = profile.Samples.Where(s => s.Labels.Any(l => l.Key == SpanLabels.TraceId && l.Value == traceId)).Take(10).ToList();
                main.Append("<p>Tasks snapshot of ").Append(UiHtml.Text(Time(tasks.StartedAt))).Append(" UTC: ")
                    .Append(chains.Count.ToString(CultureInfo.InvariantCulture)).Append(chains.Count == 1 ? " chain" : " chains").Append(" of this trace, innermost first.</p>");
                foreach (var chain in chains)
                {
                    var awaits = chain.Labels.Where(l => l.Key == TasksProfileBuilder.AwaitsLabel).Select(l => l.Value).FirstOrDefault() ?? "something TraceProf could not name";
                    main.Append("<p>awaiting <strong>").Append(UiHtml.Text(awaits)).Append("</strong></p><ol class=\"chain\">");
                    foreach (var frame in chain.Stack)
                    {
                        main.Append("<li><code>").Append(UiHtml.Text(profile.Frames[frame].FunctionName)).Append("</code></li>");
                    }

                    main.Append("</ol>");
                }
            }
        }

        main.Append("</section>");
    }
}
