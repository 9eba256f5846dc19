using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Security;
using TraceProf.AspNetCore.Triggers;
using TraceProf.Parsing;
using TraceProf.Pipeline;

using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>
/// <c>/pprof/</c>: the index of the profiles, as HTML for a browser and as JSON (with the flight recorder's status)
/// for everything else; and the answer for a profile name that does not exist.
/// </summary>
internal sealed class IndexEndpoints(EndpointGuard guard, IOptions<TraceProfOptions> options, FlightRecorderService recorderService, RequestTriggers triggers, SnapshotStoreHealth storeHealth, CaptureCoordinator coordinator)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly TraceProfOptions _options = options.Value;

    public RequestDelegate Index => guard.Guard(Capabilities.None, IndexAsync);

    public RequestDelegate UnknownProfile => guard.Guard(Capabilities.None, UnknownProfileAsync);

    private Task UnknownProfileAsync(HttpContext context)
    {
        var name = context.Request.RouteValues["name"] as string ?? "";
        return Problems.WriteAsync(
            context,
            StatusCodes.Status404NotFound,
            $"Unknown profile '{QueryParser.Echo(name)}'; available: profile, allocs, contention (mutex), block, threads (goroutine), trace, heap, exceptions. See {_options.PathPrefix}/pprof/.");
    }

    // The pool's own figures, read when asked. The engine's ThreadPoolMonitor (starvation events) is not kept running:
    // an in-process EventListener on the runtime provider stops the runtime from logging types afresh for a later
    // heap snapshot (every object of a second snapshot came out as [type 0x…]; docs/design-notes.md).
    private static object ThreadPoolNow() => new
    {
        threadCount = ThreadPool.ThreadCount,
        pendingWorkItemCount = ThreadPool.PendingWorkItemCount,
        completedWorkItemCount = ThreadPool.CompletedWorkItemCount,
    };

    private async Task IndexAsync(HttpContext context)
    {
        var p = _options.PathPrefix;
        var s = _options.DefaultCaptureSeconds;
        var profiles = new[]
        {
            new IndexEntry("profile", $"{p}/pprof/profile?seconds={s}", "cpu", CpuDescription()),
            new IndexEntry("allocs", $"{p}/pprof/allocs?seconds={s}", "allocs",
                "Sampled allocations during ?seconds=N: alloc_objects/count and alloc_space/bytes (unbiased estimate), the allocated type as leaf frame and object_type label."),
            new IndexEntry("contention", $"{p}/pprof/contention?seconds={s}", "contention",
                "Lock contention during ?seconds=N (alias mutex): contentions/count and delay/nanoseconds at the waiting thread's stack."),
            new IndexEntry("block", $"{p}/pprof/block?seconds={s}", "contention",
                "Everything that blocked during ?seconds=N: lock contention plus blocking waits (Task.Wait, .Result, Monitor.Wait, WaitOne, SemaphoreSlim.Wait); labels wait_source (lock, wait-handle, monitor-wait) and threadpool=true|false (a pool thread blocked is the sync-over-async smell)."),
            new IndexEntry("heap", $"{p}/pprof/heap", "heap",
                "The live heap now, after one blocking full GC (always: gc=1 is implied; the pause grows with the heap, see the README): inuse_space/bytes (default) and inuse_objects/count, the object's type as leaf frame and object_type label, callers the shortest path from a GC root that retains it; ?base=<heap snapshot id> answers what grew."),
            new IndexEntry("exceptions", $"{p}/pprof/exceptions?seconds={s}", "exceptions",
                "First-chance exceptions during ?seconds=N: exceptions/count, the exception type as leaf frame and exception_type label, callers the throw stack; messages only with TraceProf:ExceptionMessages=true."),
            new IndexEntry("threads", $"{p}/pprof/threads?debug=1", "threads",
                "Stacks of all managed threads now (alias goroutine): pprof with one sample per thread, debug=1 text grouped by stack, debug=2 text per thread."),
            new IndexEntry("trace", $"{p}/pprof/trace?seconds=5", "trace",
                "Raw .nettrace of ?seconds=N: CPU samples plus GC, exception and contention events, for PerfView, dotnet-trace and TraceEvent."),
            new IndexEntry("snapshots", $"{p}/snapshots", "snapshots",
                "Stored snapshots, newest first; filter with ?traceId=<32 hex>&kind=&since=&limit= (a trace id finds every capture holding its samples)."),
            new IndexEntry("traces", $"{p}/traces/<trace id>?kind=cpu", "snapshots",
                "Every stored sample of one trace, merged from all snapshots that hold it; ?kind=&format=."),
        };

        var accept = context.Request.Headers.Accept.ToString();
        if (accept.Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            var html = new StringBuilder();
            html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>TraceProf</title></head><body>");
            html.Append("<h1>TraceProf profiles</h1><table><thead><tr><th>Profile</th><th>Capability</th><th>Description</th></tr></thead><tbody>");
            foreach (var entry in profiles)
            {
                html.Append(CultureInfo.InvariantCulture, $"<tr><td><a href=\"{HtmlEncoder.Default.Encode(entry.Href)}\">{HtmlEncoder.Default.Encode(entry.Name)}</a></td><td>{HtmlEncoder.Default.Encode(entry.Capability)}</td><td>{HtmlEncoder.Default.Encode(entry.Description)}</td></tr>");
            }

            html.Append("</tbody></table><p id=\"cpu-sampler\">CPU sampler: <strong>").Append(HtmlEncoder.Default.Encode(coordinator.Options.CpuSampler.Active)).Append("</strong>. ")
                .Append(HtmlEncoder.Default.Encode(coordinator.Options.CpuSampler.Reason));
            if (!coordinator.Options.CpuSampler.UsePerf)
            {
                html.Append(' ').Append(HtmlEncoder.Default.Encode(TraceProf.Capture.CpuSamplerChoice.HowToEnable));
            }

            html.Append("</p><p>Send the role in the <code>").Append(HtmlEncoder.Default.Encode(_options.RoleHeaderName)).Append("</code> header.</p></body></html>");
            context.Response.Headers.ContentSecurityPolicy = "default-src 'none'";
            await TypedResults.Content(html.ToString(), "text/html; charset=utf-8").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        await TypedResults.Json(new { profiles, cpuSampler = new { active = coordinator.Options.CpuSampler.Active, reason = coordinator.Options.CpuSampler.Reason }, flightRecorder = FlightRecorderStatus(), store = storeHealth.Status(coordinator.DroppedSnapshots), threadPool = ThreadPoolNow() }, Json).ExecuteAsync(context).ConfigureAwait(false);
    }

    private string CpuDescription()
    {
        var max = _options.MaxCaptureSeconds;
        if (coordinator.Options.CpuSampler.UsePerf)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"CPU profile for ?seconds=N (1–{max}), sampled by the kernel (perf_event): one sample per {coordinator.Options.PerfSampler.Period.TotalMilliseconds} ms of a thread's CPU time, managed and native frames, nothing suspended; samples/count, cpu/nanoseconds (on-CPU time; no wall column). ?sampler=eventpipe uses the runtime's sampler instead (cpu = in managed code, wall = all threads).");
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"CPU profile: every managed thread sampled about every ms for ?seconds=N (1–{max}); samples/count, cpu/nanoseconds (threads in managed code), wall/nanoseconds (all). Nominal sampling interval {ParseOptions.SamplingIntervalOfThisProcess().TotalMilliseconds} ms (DOTNET_EventPipeThreadSamplingRate, hexadecimal ms, read at process start); each profile's period is the effective interval measured from its capture.");
    }

    private object FlightRecorderStatus()
    {
        var settings = _options.FlightRecorder;
        var recorder = recorderService.Started.IsCompletedSuccessfully ? recorderService.Started.Result : null;
        var stats = recorder?.GetStatistics();
        var (admitted, rateLimited, duplicates, queueFull) = triggers.Counts;
        return new
        {
            enabled = settings.Enabled,
            running = recorder?.IsRunning ?? false,
            kinds = settings.Kinds,
            windowSeconds = settings.WindowSeconds,
            cpuSampler = recorder is null ? null : recorder.UsesPerf ? "perf" : "eventpipe",
            samplingIntervalMs = recorder is null ? (double?)null : recorder.UsesPerf ? recorder.Options.PerfSampler!.Period.TotalMilliseconds : recorder.Options.SamplingInterval.TotalMilliseconds,
            perfLostSamples = recorder?.PerfSampler?.LostSamples,
            perfThreads = recorder?.PerfSampler?.ActiveThreads,
            perfRingBytes = recorder?.PerfSampler?.RingBytes,
            retainedSamples = stats?.RetainedSamples,
            retainedContentions = stats?.RetainedContentions,
            retainedBytes = stats?.RetainedBytes,
            methods = stats?.Methods,
            rundowns = recorder?.Rundowns,
            eventsRead = stats?.EventsRead,
            triggered = admitted,
            saved = recorderService.Saved,
            droppedRateLimited = rateLimited,
            droppedDuplicateTrace = duplicates,
            droppedQueueFull = queueFull,
        };
    }

    private sealed record IndexEntry(string Name, string Href, string Capability, string Description);
}
