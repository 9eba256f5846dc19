using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.OpenTelemetry;
using TraceProf.AspNetCore.Security;
using TraceProf.AspNetCore.Triggers;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Recording;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>
/// <c>/pprof/</c>: the index of the profiles, as HTML for a browser and as JSON (with the flight recorder's status)
/// for everything else; and the answer for a profile name that does not exist.
/// </summary>
internal sealed class IndexEndpoints(EndpointGuard guard, IOptions<TraceProfOptions> options, FlightRecorderService recorderService, RequestTriggers triggers, SnapshotStoreHealth storeHealth, CaptureCoordinator coordinator, StarvationTrigger starvation, RuntimeTriggers runtimeTriggers, IServiceProvider services)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly TraceProfOptions _options = options.Value;

    public RequestDelegate Index => guard.Guard(Capabilities.None, IndexAsync);

    public RequestDelegate UnknownProfile => guard.Guard(Capabilities.None, UnknownProfileAsync);

    public RequestDelegate NotServedByDesign => guard.Guard(Capabilities.None, NotServedByDesignAsync);

    // Go's net/http/pprof serves these two; TraceProf answers a clear 404 instead. go tool pprof asks for neither
    // against TraceProf (checked with the real tool, even with -symbolize=remote:force: it asks /symbol only for a
    // mapping without function names, and every mapping of a TraceProf profile has them); cmdline is for people.
    private Task NotServedByDesignAsync(HttpContext context)
    {
        var symbol = (context.Request.Path.Value ?? "").EndsWith("/symbol", StringComparison.Ordinal);
        return Problems.WriteAsync(
            context,
            StatusCodes.Status404NotFound,
            symbol
                ? $"TraceProf does not serve {_options.PathPrefix}/pprof/symbol: its profiles carry function names in every mapping, so go tool pprof needs no remote symbol lookup (and .NET code has no native symbol table to look addresses up in)."
                : $"TraceProf does not serve {_options.PathPrefix}/pprof/cmdline: a process's command line can hold secrets, and go tool pprof does not need it; each profile's comment names the process and the capture.");
    }

    private Task UnknownProfileAsync(HttpContext context)
    {
        var name = context.Request.RouteValues["name"] as string ?? "";
        return Problems.WriteAsync(
            context,
            StatusCodes.Status404NotFound,
            $"Unknown profile '{QueryParser.Echo(name)}'; available: profile, allocs, contention (mutex), block, threads (goroutine), trace, heap, exceptions. See {_options.PathPrefix}/pprof/.");
    }

    // The pool's own figures, read when asked, and the injections for blocked workers that the flight recorder's
    // session reported (null while the recorder does not run or reads no thread-pool events). The UI shows them too.
    internal ThreadPoolFigures ThreadPoolStatus()
    {
        var recorder = recorderService.Started.IsCompletedSuccessfully ? recorderService.Started.Result : null;
        var pool = recorder is { Options.ThreadPoolEvents: true } ? recorder.PoolStarvation : null;
        var last = pool?.LastDetectedTimestamp ?? 0;
        return new ThreadPoolFigures(
            ThreadPool.ThreadCount,
            ThreadPool.PendingWorkItemCount,
            ThreadPool.CompletedWorkItemCount,
            pool?.StarvationAdjustments,
            pool?.BlockingInjections,
            last == 0 ? null : Math.Round(Stopwatch.GetElapsedTime(last).TotalSeconds, 1),
            starvation.Saved,
            starvation.Skipped);
    }

    // Null unless the app added AddTraceProfAdaptiveSampling to its tracer provider (which registers the sampler in the
    // app's services). NaN (no window ended yet, no span observed) is written as null: JSON has no NaN.
    private object? AdaptiveSamplerNow()
    {
        if (services.GetService(typeof(AdaptiveSampler)) is not AdaptiveSampler sampler)
        {
            return null;
        }

        var s = sampler.Status;
        static double? Known(double value) => double.IsNaN(value) ? null : Math.Round(value, 6);
        return new
        {
            probability = Known(s.Probability),
            targetTracesPerSecond = s.TargetTracesPerSecond,
            rootsPerSecond = Known(s.RootsPerSecond),
            sampledPerSecond = Known(s.SampledPerSecond),
            errorRate = Known(s.ErrorRate),
            p95Milliseconds = Known(s.P95Milliseconds),
            boosted = s.Boosted,
            boostedUntil = s.BoostedUntil,
            minProbability = sampler.Options.MinProbability,
            errorRateBoostThreshold = sampler.Options.ErrorRateBoostThreshold,
            latencyBoostMilliseconds = sampler.Options.LatencyBoostMilliseconds,
            boostFactor = sampler.Options.BoostFactor,
            boostSeconds = sampler.Options.BoostSeconds,
        };
    }

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
            // A template, not a link: /traces/<trace id> itself answers 400. The HTML index links the UI's trace search instead.
            new IndexEntry("traces", $"{p}/traces/{{traceId}}?kind=cpu", "snapshots",
                "Every stored sample of one trace, merged from all snapshots that hold it; ?kind=&format=. Replace {traceId} with 32 hex digits."),
        };

        if (BrowserPages.WantsHtml(context.Request))
        {
            var main = new StringBuilder();
            main.Append("<p>Profiles of this process, captured on request (the Go <code>net/http/pprof</code> paths). Stored snapshots and their flame graphs are in the <a href=\"")
                .Append(BrowserPages.Text(p)).Append("/ui/\">browser UI</a>.</p>")
                .Append("<table><thead><tr><th>Profile</th><th>Capability</th><th>Description</th></tr></thead><tbody>");
            foreach (var entry in profiles)
            {
                // The traces entry needs a trace id: link the UI's list, which searches by one, rather than a URL that answers 400.
                var href = entry.Name == "traces" ? $"{p}/ui/" : entry.Href;
                main.Append(CultureInfo.InvariantCulture, $"<tr><td><a href=\"{BrowserPages.Text(href)}\">{BrowserPages.Text(entry.Name)}</a></td><td>{BrowserPages.Text(entry.Capability)}</td><td>{BrowserPages.Text(entry.Description)}</td></tr>");
            }

            main.Append("</tbody></table><p id=\"cpu-sampler\">CPU sampler: <strong>").Append(BrowserPages.Text(coordinator.Options.CpuSampler.Active)).Append("</strong>. ")
                .Append(BrowserPages.Text(coordinator.Options.CpuSampler.Reason));
            if (!coordinator.Options.CpuSampler.UsePerf)
            {
                main.Append(' ').Append(BrowserPages.Text(TraceProf.Capture.CpuSamplerChoice.HowToEnable));
            }

            main.Append("</p><p class=\"note\">Scripts send the role in the <code>").Append(BrowserPages.Text(_options.RoleHeaderName))
                .Append("</code> header with a proof (an API key, or a loopback connection); <code>go tool pprof http://trace:KEY@host").Append(BrowserPages.Text(p))
                .Append("/pprof/profile?seconds=30</code> sends a key bound to a role as Basic auth. This browser acts as the role it signed in with in the UI.</p>");
            await BrowserPages.WriteAsync(context, StatusCodes.Status200OK, BrowserPages.Page(p, "TraceProf profiles", main.ToString())).ConfigureAwait(false);
            return;
        }

        await TypedResults.Json(new { profiles, cpuSampler = new { active = coordinator.Options.CpuSampler.Active, reason = coordinator.Options.CpuSampler.Reason }, flightRecorder = FlightRecorderStatus(), store = storeHealth.Status(coordinator.DroppedSnapshots), threadPool = ThreadPoolStatus(), tracing = new { adaptiveSampler = AdaptiveSamplerNow() } }, Json).ExecuteAsync(context).ConfigureAwait(false);
    }
    private string CpuDescription()
    {
        var max = _options.MaxCaptureSeconds;
        if (coordinator.Options.CpuSampler.UsePerf)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"CPU profile for ?seconds=N (1–{max}), sampled by the kernel (perf_event): one sample per {coordinator.Options.PerfSampler.Period.TotalMilliseconds} ms of a thread's CPU time, managed and native frames (a native leaf's managed caller, which the kernel's frame-pointer walk skips, put back from a copy of its stack), nothing suspended; samples/count, cpu/nanoseconds (on-CPU time; no wall column). ?sampler=eventpipe uses the runtime's sampler instead (cpu = in managed code, wall = all threads).");
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
            eventPipeCpu = recorder is null || recorder.UsesPerf || !recorder.Options.Cpu ? null : recorder.ArmedCpu is { } armed
                ? new { mode = "armed", armed = armed.IsArmed, armedUntil = armed.ArmedUntil, armedMinutes = armed.ArmFor.TotalMinutes, arms = armed.Arms }
                : (object)new { mode = "always" },
            perfLostSamples = recorder?.PerfSampler?.LostSamples,
            perfThreads = recorder?.PerfSampler?.ActiveThreads,
            perfRingBytes = recorder?.PerfSampler?.RingBytes,
            retainedSamples = stats?.RetainedSamples,
            retainedContentions = stats?.RetainedContentions,
            retainedBytes = stats?.RetainedBytes,
            methods = stats?.Methods,
            rundowns = recorder?.Rundowns,
            eventsRead = stats?.EventsRead,
            exceptionsThrown = stats?.ExceptionsThrown,
            exceptionsSampledOut = stats?.ExceptionsSampledOut,
            exceptionStormPauses = stats?.ExceptionStormPauses,
            exceptionStorm = ExceptionStormStatus(recorder?.Exceptions),
            triggered = admitted,
            saved = recorderService.Saved,
            droppedRateLimited = rateLimited,
            droppedDuplicateTrace = duplicates,
            droppedQueueFull = queueFull,
            runtimeTriggers = RuntimeTriggersStatus(),
        };
    }

    // The exceptions kind's storm guard: whether it records or is paused, the rate it read, its pauses so far.
    private static object? ExceptionStormStatus(ExceptionRecording? exceptions)
    {
        if (exceptions is null)
        {
            return null;
        }

        var pause = exceptions.CurrentPause;
        return new
        {
            state = exceptions.State switch
            {
                ExceptionRecordingState.Recording => "recording",
                ExceptionRecordingState.PausedStorm => "paused: storm",
                _ => "stopped",
            },
            boundPerSecond = exceptions.StormPerSecond,
            cooldownSeconds = exceptions.Cooldown.TotalSeconds,
            lastRatePerSecond = Math.Round(exceptions.LastRate),
            exceptionsCounted = exceptions.Counted,
            pauses = exceptions.Pauses,
            resumes = exceptions.Resumes,
            pausedSince = pause?.FromUtc,
            notRecordedInThisPause = pause?.NotRecorded,
        };
    }

    private object RuntimeTriggersStatus()
    {
        var settings = _options.FlightRecorder.Triggers;
        var (evaluations, cooledDown) = runtimeTriggers.Counts;
        var last = runtimeTriggers.Last;
        return new
        {
            cpuPercent = settings.CpuPercent,
            gcPausePercent = settings.GcPausePercent,
            threadPoolQueueLength = settings.ThreadPoolQueueLength,
            windowSeconds = settings.CpuWindowSeconds,
            cooldownMinutes = settings.TriggerCooldownMinutes,
            readings = evaluations,
            fired = runtimeTriggers.Saved,
            cooledDown,
            lastWindow = last is { } l ? new { cpuPercent = Math.Round(l.CpuPercent, 1), gcPausePercent = Math.Round(l.GcPausePercent, 2), minQueueLength = l.MinQueueLength } : null,
        };
    }

    private sealed record IndexEntry(string Name, string Href, string Capability, string Description);
}

/// <summary>The thread pool now and what the starvation trigger saw (the index's <c>threadPool</c>, and the UI's line).</summary>
internal sealed record ThreadPoolFigures(
    int ThreadCount,
    long PendingWorkItemCount,
    long CompletedWorkItemCount,
    long? StarvationAdjustments,
    long? BlockingInjections,
    double? LastStarvationSecondsAgo,
    long StarvationSnapshots,
    long StarvationSkipped);
