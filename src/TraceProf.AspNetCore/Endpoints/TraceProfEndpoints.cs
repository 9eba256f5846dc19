using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Security;
using TraceProf.AspNetCore.Triggers;
using TraceProf.AspNetCore.Ui;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>The handlers behind every TraceProf route, and the route table both placements use.</summary>
internal sealed class TraceProfEndpoints
{
    // The thread-stacks capture only needs one sampler tick per thread; a short session is plenty.
    // A trace view reads at most this many snapshots; a trace is seldom in more.
    private const int MaxSnapshotsPerTrace = 50;

    // A capture runs for seconds and stores a snapshot: HEAD, which a link checker or a cache may send on its own,
    // must not start one (405 with Allow: GET). The read-only routes keep GET and HEAD.
    private static readonly string[] CaptureMethods = [HttpMethods.Get];

    private static readonly TimeSpan ThreadsCaptureDuration = TimeSpan.FromMilliseconds(200);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly TraceProfGate _gate;
    private readonly CaptureCoordinator _coordinator;
    private readonly ISnapshotStore _store;
    private readonly TraceProfOptions _options;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;
    private readonly FlightRecorderService _recorder;
    private readonly RequestTriggers _triggers;
    private readonly SnapshotStoreHealth _storeHealth;

    public TraceProfEndpoints(
        TraceProfGate gate,
        CaptureCoordinator coordinator,
        ISnapshotStore store,
        IOptions<TraceProfOptions> options,
        IHostApplicationLifetime lifetime,
        ILogger<TraceProfEndpoints> logger,
        UiEndpoints ui,
        FlightRecorderService recorder,
        RequestTriggers triggers,
        SnapshotStoreHealth storeHealth)
    {
        _storeHealth = storeHealth;
        _recorder = recorder;
        _triggers = triggers;
        _gate = gate;
        _coordinator = coordinator;
        _store = store;
        _options = options.Value;
        _lifetime = lifetime;
        _logger = logger;
        Routes =
        [
            new("/pprof", Capabilities.None, Guard(Capabilities.None, IndexAsync), "this index"),
            new("/pprof/", Capabilities.None, Guard(Capabilities.None, IndexAsync), "this index"),
            new("/profile", Capabilities.Cpu, Capture(CaptureKind.Cpu), "CPU profile: samples of every managed thread for ?seconds=N (default 30)", CaptureMethods),
            new("/pprof/profile", Capabilities.Cpu, Capture(CaptureKind.Cpu), "CPU profile (Go pprof path)", CaptureMethods),
            new("/pprof/allocs", Capabilities.Allocs, Capture(CaptureKind.Allocations), "sampled allocations for ?seconds=N", CaptureMethods),
            new("/pprof/contention", Capabilities.Contention, Capture(CaptureKind.Contention), "lock contention for ?seconds=N", CaptureMethods),
            new("/pprof/mutex", Capabilities.Contention, Capture(CaptureKind.Contention), "lock contention (Go's name)", CaptureMethods),
            new("/pprof/block", Capabilities.Contention, Capture(CaptureKind.Contention), "lock contention (Go's name)", CaptureMethods),
            new("/pprof/threads", Capabilities.Threads, Capture(CaptureKind.Threads), "stacks of all managed threads now; ?debug=1|2 for text", CaptureMethods),
            new("/pprof/goroutine", Capabilities.Threads, Capture(CaptureKind.Threads), "stacks of all managed threads (Go's name)", CaptureMethods),
            new("/pprof/trace", Capabilities.Trace, Capture(CaptureKind.Trace), "raw .nettrace for ?seconds=N", CaptureMethods),
            new("/snapshots", Capabilities.Snapshots, Guard(Capabilities.Snapshots, ListSnapshotsAsync), "stored snapshots: ?traceId=&kind=&since=&limit="),
            new("/snapshots/{id}", Capabilities.Snapshots, Guard(Capabilities.Snapshots, GetSnapshotAsync), "one stored snapshot: ?format=pprof|speedscope|folded|nettrace"),
            new("/traces/{traceId}", Capabilities.Snapshots, Guard(Capabilities.Snapshots, GetTraceAsync), "every stored sample of one trace, merged: ?kind=cpu&format="),
            new("/pprof/{name}", Capabilities.None, Guard(Capabilities.None, UnknownProfileAsync), "unknown profile names answer 404"),
            .. ui.Routes, // the browser UI under /ui/ (Ui/UiEndpoints.cs)
        ];
    }

    public IReadOnlyList<TraceProfRoute> Routes { get; }

    /// <summary>Answers a path under the prefix that no route matches.</summary>
    public Task NotFoundAsync(HttpContext context) =>
        Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"No TraceProf endpoint at this path; the index is {_options.PathPrefix}/pprof/.");

    private RequestDelegate Guard(Capabilities required, RequestDelegate handler) => async context =>
    {
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "no-store";
        var decision = await _gate.AuthorizeAsync(context, required).ConfigureAwait(false);
        if (!decision.Allowed)
        {
            Log.AccessDenied(_logger, context.Request.Path.Value ?? "", decision.StatusCode);
            await Problems.WriteAsync(context, decision.StatusCode, decision.Detail!).ConfigureAwait(false);
            return;
        }

        await handler(context).ConfigureAwait(false);
    };

    private RequestDelegate Capture(CaptureKind kind) => Guard(CapabilityOf(kind), context => CaptureAsync(context, kind));

    private static Capabilities CapabilityOf(CaptureKind kind) => kind switch
    {
        CaptureKind.Cpu => Capabilities.Cpu,
        CaptureKind.Allocations => Capabilities.Allocs,
        CaptureKind.Contention => Capabilities.Contention,
        CaptureKind.Threads => Capabilities.Threads,
        CaptureKind.Trace => Capabilities.Trace,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private async Task CaptureAsync(HttpContext context, CaptureKind kind)
    {
        var request = context.Request;
        var seconds = 0;
        var debug = 0;
        string? error = null;
        var format = ProfileFormat.Pprof;
        var valid = (kind == CaptureKind.Threads
                ? QueryParser.TryGetDebug(request, out debug, out error)
                : QueryParser.TryGetSeconds(request, _options, out seconds, out error))
            && QueryParser.TryGetFormat(request, kind == CaptureKind.Trace ? ProfileFormat.Nettrace : ProfileFormat.Pprof, out format, out error);
        if (!valid)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        var duration = kind == CaptureKind.Threads ? ThreadsCaptureDuration : TimeSpan.FromSeconds(seconds);
        if (!_coordinator.TryAcquire(kind, duration, out var lease, out var retryAfter))
        {
            var retrySeconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            context.Response.Headers.RetryAfter = retrySeconds.ToString(CultureInfo.InvariantCulture);
            await Problems.WriteAsync(
                context,
                StatusCodes.Status429TooManyRequests,
                $"A {CaptureKinds.Name(kind)} capture is already running; one runs at a time per kind. Retry in about {retrySeconds} s.").ConfigureAwait(false);
            return;
        }

        using (lease)
        {
            var (traceId, spanId) = RequestTrace(context);
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _lifetime.ApplicationStopping);
            CaptureOutcome outcome;
            try
            {
                outcome = await _coordinator.CaptureAsync(new CaptureRequest(kind, duration, traceId, spanId), cancellation.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                Log.CaptureCancelled(_logger, traceId);
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The capture was cancelled: the client went away or the application is stopping.").ConfigureAwait(false);
                return;
            }
            catch (SnapshotTooLargeException ex)
            {
                await Problems.WriteAsync(
                    context,
                    StatusCodes.Status507InsufficientStorage,
                    $"The capture was made but cannot be stored: {ex.Message} Capture for fewer seconds, or raise TraceProf:Storage:MaxTotalMegabytes.").ConfigureAwait(false);
                return;
            }
            catch (CaptureUnavailableException ex)
            {
                Log.CaptureUnavailable(_logger, ex);
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ex.Message).ConfigureAwait(false);
                return;
            }

            if (!outcome.Stored)
            {
                // The store kept failing: the caller still gets the profile, and is told it was not kept.
                context.Response.Headers[ProfileResponses.SnapshotStatusHeader] = _storeHealth.IsReady ? "dropped" : "not-stored";
                if (_storeHealth.Reason is { } reason)
                {
                    context.Response.Headers[ProfileResponses.SnapshotStatusHeader + "-Reason"] = string.Concat(reason.Select(c => char.IsAscii(c) && !char.IsControl(c) ? c : '?'));
                }

                if (format == ProfileFormat.Nettrace)
                {
                    await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The snapshot store is unavailable, so the raw capture was not kept; ask for format=pprof, speedscope or folded, or retry when the store is back.").ConfigureAwait(false);
                    return;
                }
            }

            if (debug > 0)
            {
                await ProfileResponses.WriteThreadDumpAsync(context, _store, outcome.Snapshot, debug, outcome.Profile, context.RequestAborted).ConfigureAwait(false);
                return;
            }

            await ProfileResponses.WriteAsync(context, _store, outcome.Snapshot, format, outcome.Profile, context.RequestAborted, outcome.Pprof).ConfigureAwait(false);
        }
    }

    private async Task ListSnapshotsAsync(HttpContext context)
    {
        var request = context.Request;
        if (!QueryParser.TryGetTraceId(request, out var traceId, out var error) ||
            !QueryParser.TryGetKind(request, CaptureKinds.Names, out var kind, out error) ||
            !QueryParser.TryGetSince(request, out var since, out error) ||
            !QueryParser.TryGetLimit(request, SnapshotQuery.MaxLimit, out var limit, out error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        var rows = await _store.ListAsync(new SnapshotQuery { TraceId = traceId, Kind = kind, Since = since, Limit = limit }, context.RequestAborted).ConfigureAwait(false);
        var body = new
        {
            count = rows.Count,
            snapshots = rows.Select(row => new
            {
                id = row.Id,
                traceId = row.TraceId,
                spanId = row.SpanId,
                kind = row.Kind,
                trigger = row.Trigger,
                status = row.Status,
                serviceName = row.ServiceName,
                hostName = row.HostName,
                startedAt = row.StartedAt,
                durationMs = (long)row.Duration.TotalMilliseconds,
                sampleCount = row.SampleCount,
                profileBytes = row.ProfileBytes,
                nettraceBytes = row.NettraceBytes,
                nettraceOmitted = row.NettraceOmitted,
                containedTraceIds = row.ContainedTraceIds,
                href = $"{_options.PathPrefix}/snapshots/{row.Id}",
            }),
        };
        await TypedResults.Json(body, Json).ExecuteAsync(context).ConfigureAwait(false);
    }

    private async Task GetSnapshotAsync(HttpContext context)
    {
        var id = context.Request.RouteValues["id"] as string ?? "";
        if (!SnapshotIds.IsValid(id))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"A snapshot id is 32 lower-case hex digits; got '{QueryParser.Echo(id)}'.").ConfigureAwait(false);
            return;
        }

        if (!QueryParser.TryGetFormat(context.Request, out var format, out var error) ||
            !QueryParser.TryGetDebug(context.Request, out var debug, out error) ||
            !QueryParser.TryGetTraceId(context.Request, out var onlyTrace, out error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        var snapshot = await _store.GetAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (snapshot is null)
        {
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"No snapshot with id {id}; list them at {_options.PathPrefix}/snapshots.").ConfigureAwait(false);
            return;
        }

        if (debug > 0)
        {
            if (snapshot.Kind != CaptureKinds.Name(CaptureKind.Threads))
            {
                await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"debug=1|2 applies to threads snapshots; snapshot {id} is a {snapshot.Kind} snapshot.").ConfigureAwait(false);
                return;
            }

            await ProfileResponses.WriteThreadDumpAsync(context, _store, snapshot, debug, profile: null, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        Profile? filtered = null;
        if (onlyTrace is not null)
        {
            if (format == ProfileFormat.Nettrace)
            {
                await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "traceId filters the samples of a profile; it does not apply to format=nettrace, the raw capture.").ConfigureAwait(false);
                return;
            }

            filtered = await ReadProfileAsync(snapshot, context.RequestAborted).ConfigureAwait(false);
            if (filtered is null)
            {
                await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"Snapshot {id} has no profile file any more (removed by retention or never stored).").ConfigureAwait(false);
                return;
            }

            filtered = ProfileOperations.WhereLabel(filtered, SpanLabels.TraceId, onlyTrace);
        }

        await ProfileResponses.WriteAsync(context, _store, snapshot, format, filtered, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task GetTraceAsync(HttpContext context)
    {
        var traceId = context.Request.RouteValues["traceId"] as string ?? "";
        if (!TraceIds.IsValid(traceId))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"A trace id is 32 lower-case hex digits, not all zero; got '{QueryParser.Echo(traceId)}'.").ConfigureAwait(false);
            return;
        }

        if (!QueryParser.TryGetFormat(context.Request, out var format, out var error) ||
            !QueryParser.TryGetKind(context.Request, CaptureKinds.Names, out var kind, out error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        kind ??= CaptureKinds.Name(CaptureKind.Cpu);
        if (format == ProfileFormat.Nettrace)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "A trace view merges profiles; format must be pprof, speedscope or folded. Fetch raw captures from /snapshots/{id}?format=nettrace.").ConfigureAwait(false);
            return;
        }

        var rows = await _store.ListAsync(new SnapshotQuery { TraceId = traceId, Kind = kind, Limit = MaxSnapshotsPerTrace }, context.RequestAborted).ConfigureAwait(false);
        var parts = new List<(Profile, IReadOnlyList<ProfileLabel>)>();
        var used = new List<string>();
        foreach (var row in rows)
        {
            if (await ReadProfileAsync(row, context.RequestAborted).ConfigureAwait(false) is { } profile)
            {
                parts.Add((profile, [new ProfileLabel("snapshot_id", row.Id), new ProfileLabel("service.name", row.ServiceName)]));
                used.Add(row.Id);
            }
        }

        if (parts.Count == 0)
        {
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"No stored {kind} snapshot holds samples of trace {traceId}.").ConfigureAwait(false);
            return;
        }

        var merged = ProfileOperations.Merge(
            parts,
            s => s.Labels.Contains(new ProfileLabel(SpanLabels.TraceId, traceId)),
            [$"TraceProf trace view: samples of trace {traceId} from {parts.Count} {kind} snapshot(s): {string.Join(", ", used)}."]);
        await ProfileResponses.WriteMergedAsync(context, merged, format, traceId, kind, used, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task<Profile?> ReadProfileAsync(SnapshotInfo snapshot, CancellationToken cancellationToken)
    {
        var stream = await _store.OpenArtifactAsync(snapshot.Id, SnapshotArtifact.Pprof, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            return null;
        }

        await using (stream.ConfigureAwait(false))
        {
            return PprofDecoder.Decode(stream);
        }
    }

    private Task UnknownProfileAsync(HttpContext context)
    {
        var name = context.Request.RouteValues["name"] as string ?? "";
        return Problems.WriteAsync(
            context,
            StatusCodes.Status404NotFound,
            $"Unknown profile '{QueryParser.Echo(name)}'; available: profile, allocs, contention (mutex, block), threads (goroutine), trace. See {_options.PathPrefix}/pprof/.");
    }

    private async Task IndexAsync(HttpContext context)
    {
        var p = _options.PathPrefix;
        var s = _options.DefaultCaptureSeconds;
        var profiles = new[]
        {
            new IndexEntry("profile", $"{p}/pprof/profile?seconds={s}", "cpu",
                $"CPU profile: every managed thread sampled about every ms for ?seconds=N (1–{_options.MaxCaptureSeconds}); samples/count, cpu/nanoseconds (threads in managed code), wall/nanoseconds (all). Nominal sampling interval {ParseOptions.SamplingIntervalOfThisProcess().TotalMilliseconds} ms (DOTNET_EventPipeThreadSamplingRate, hexadecimal ms, read at process start); each profile's period is the effective interval measured from its capture."),
            new IndexEntry("allocs", $"{p}/pprof/allocs?seconds={s}", "allocs",
                "Sampled allocations during ?seconds=N: alloc_objects/count and alloc_space/bytes (unbiased estimate), the allocated type as leaf frame and object_type label."),
            new IndexEntry("contention", $"{p}/pprof/contention?seconds={s}", "contention",
                "Lock contention during ?seconds=N (aliases mutex, block): contentions/count and delay/nanoseconds at the waiting thread's stack."),
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

            html.Append("</tbody></table><p>Send the role in the <code>").Append(HtmlEncoder.Default.Encode(_options.RoleHeaderName)).Append("</code> header.</p></body></html>");
            context.Response.Headers.ContentSecurityPolicy = "default-src 'none'";
            await TypedResults.Content(html.ToString(), "text/html; charset=utf-8").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        await TypedResults.Json(new { profiles, flightRecorder = FlightRecorderStatus(), store = _storeHealth.Status(_coordinator.DroppedSnapshots) }, Json).ExecuteAsync(context).ConfigureAwait(false);
    }

    private static (ActivityTraceId TraceId, ActivitySpanId SpanId) RequestTrace(HttpContext context)
    {
        // ASP.NET Core starts an Activity only when someone listens (OpenTelemetry does); without one, honour the
        // caller's traceparent ourselves so the caller still chooses the trace the snapshot is stored under.
        if (Activity.Current is { } activity && activity.IdFormat == ActivityIdFormat.W3C)
        {
            return (activity.TraceId, activity.SpanId);
        }

        var traceparent = context.Request.Headers.TraceParent.ToString();
        if (traceparent.Length > 0 && ActivityContext.TryParse(traceparent, null, out var parent))
        {
            return (parent.TraceId, ActivitySpanId.CreateRandom());
        }

        return (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
    }

    private object FlightRecorderStatus()
    {
        var settings = _options.FlightRecorder;
        var recorder = _recorder.Started.IsCompletedSuccessfully ? _recorder.Started.Result : null;
        var stats = recorder?.GetStatistics();
        var (admitted, rateLimited, duplicates, queueFull) = _triggers.Counts;
        return new
        {
            enabled = settings.Enabled,
            running = recorder?.IsRunning ?? false,
            kinds = settings.Kinds,
            windowSeconds = settings.WindowSeconds,
            samplingIntervalMs = recorder?.Options.SamplingInterval.TotalMilliseconds,
            retainedSamples = stats?.RetainedSamples,
            retainedContentions = stats?.RetainedContentions,
            retainedBytes = stats?.RetainedBytes,
            methods = stats?.Methods,
            rundowns = recorder?.Rundowns,
            eventsRead = stats?.EventsRead,
            triggered = admitted,
            saved = _recorder.Saved,
            droppedRateLimited = rateLimited,
            droppedDuplicateTrace = duplicates,
            droppedQueueFull = queueFull,
        };
    }

    private sealed record IndexEntry(string Name, string Href, string Capability, string Description);
}
