using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.AspNetCore.Security;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Kinds.Heap;
using TraceProf.Kinds.Tasks;
using TraceProf.Pipeline;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>
/// Where requests wait: <c>/requests</c>, the requests in flight now (from the span timeline, free), and
/// <c>/pprof/tasks</c>, the pending async call chains of the process (from one heap snapshot, like <c>/pprof/heap</c>).
/// </summary>
internal sealed class WaitEndpoints(
    EndpointGuard guard,
    CaptureCoordinator coordinator,
    IOptions<TraceProfOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<TraceProfEndpoints> logger,
    SnapshotStoreHealth storeHealth,
    ISnapshotStore store)
{
    /// <summary>The most requests <c>/requests</c> lists (<c>limit</c>'s upper bound).</summary>
    public const int MaxRequestsListed = 10_000;

    /// <summary>How many <c>/requests</c> answers may be built at once (each copies and sorts what is in flight).</summary>
    public const int MaxConcurrentRequestLists = 2;

    /// <summary>The response header with the number of chains a tasks snapshot found.</summary>
    public const string ChainsHeader = "X-TraceProf-Task-Chains";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private static readonly TimeSpan ExpectedDuration = TimeSpan.FromSeconds(10);
    private const string TasksBusy = "A tasks or heap snapshot is already running; one heap walk runs at a time in the process.";

    private readonly TraceProfOptions _options = options.Value;
    private int _listsRunning;

    /// <summary>The <c>/requests</c> handler, behind the gate with the <c>threads</c> capability.</summary>
    public RequestDelegate Requests => guard.Guard(Capabilities.Threads, RequestsAsync);

    /// <summary>The <c>/pprof/tasks</c> handler, behind the gate with the <c>threads</c> capability.</summary>
    public RequestDelegate Tasks => guard.Guard(Capabilities.Threads, TasksAsync);

    /// <summary>Fills in the route of requests whose routing has run (the description learns it only at the end).</summary>
    internal static void FillRoutes(IEnumerable<InFlightRequest> requests)
    {
        foreach (var request in requests)
        {
            if (request.Request.Route is null && request.Context is HttpContext context)
            {
                try
                {
                    // Read from another thread while the request runs: a reference read, at worst stale.
                    request.Request.Route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
                }
#pragma warning disable CA1031 // A request that just ended may have a reset context; its route stays unknown.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }
        }
    }

    private async Task RequestsAsync(HttpContext context)
    {
        if (!QueryParser.TryGetLimit(context.Request, MaxRequestsListed, out var limit, out var error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        if (context.Request.Query.TryGetValue("route", out var routeValues) && (routeValues.Count != 1 || string.IsNullOrEmpty(routeValues[0]) || routeValues[0]!.Length > 512))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"route must be given once, as a route template of 1 to 512 characters (as listed in the answer's \"route\"); got '{QueryParser.Echo(routeValues.ToString())}'.").ConfigureAwait(false);
            return;
        }

        if (Interlocked.Increment(ref _listsRunning) > MaxConcurrentRequestLists)
        {
            Interlocked.Decrement(ref _listsRunning);
            await Problems.TooManyAsync(context, TimeSpan.FromSeconds(1), $"{MaxConcurrentRequestLists} lists of the requests in flight are being built already.").ConfigureAwait(false);
            return;
        }

        try
        {
            var body = Describe(limit, routeValues.Count == 1 ? routeValues[0] : null, context);
            context.Response.Headers.CacheControl = "no-store";
            await TypedResults.Json(body, Json).ExecuteAsync(context).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _listsRunning);
        }
    }

    private static RequestsBody Describe(int limit, string? route, HttpContext self)
    {
        if (!InFlightRequests.IsTracking)
        {
            return new RequestsBody(false, "Requests are tracked only while the span timeline records: the flight recorder (TraceProf:FlightRecorder:Enabled, on by default) or a running capture. Nothing is tracked now, so nothing can be listed.", 0, 0, InFlightRequests.Untracked, []);
        }

        var all = InFlightRequests.All();
        FillRoutes(all);
        var selfActivity = Activity.Current;
        var threads = new Dictionary<(ActivityTraceId, ActivitySpanId), List<int>>();
        foreach (var (thread, traceId, rootSpanId) in TimelineRecorder.CurrentSpans())
        {
            if (!threads.TryGetValue((traceId, rootSpanId), out var list))
            {
                threads[(traceId, rootSpanId)] = list = [];
            }

            list.Add(thread);
        }

        var now = Stopwatch.GetTimestamp();
        var matching = all
            .Where(r => route is null || string.Equals(r.Request.Route, route, StringComparison.Ordinal))
            .Where(r => !ReferenceEquals(r.Activity, selfActivity) && !ReferenceEquals(r.Context, self))
            .OrderBy(r => r.StartedTimestamp)
            .ToList();
        var listed = matching.Take(limit).Select(r =>
        {
            var onThreads = threads.TryGetValue((r.TraceId, r.SpanId), out var t) ? t : null;
            return new RequestEntry(
                r.TraceId.ToHexString(),
                r.SpanId.ToHexString(),
                r.Request.Method,
                r.Request.Route,
                Math.Round(Stopwatch.GetElapsedTime(r.StartedTimestamp, now).TotalMilliseconds, 1),
                onThreads is null ? "awaiting" : "on-thread",
                onThreads is null ? [] : [.. onThreads.Order()]);
        }).ToList();
        return new RequestsBody(true, null, matching.Count, listed.Count, InFlightRequests.Untracked, listed);
    }

    private async Task TasksAsync(HttpContext context)
    {
        var request = context.Request;
        if (!QueryParser.TryGetFormat(request, ProfileFormat.Pprof, out var format, out var error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        if (format == ProfileFormat.Nettrace)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "A tasks profile is read from a heap snapshot and keeps no raw trace; format must be pprof, speedscope or folded (or debug=1|2 for text).").ConfigureAwait(false);
            return;
        }

        if (request.Query.ContainsKey("seconds"))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "A tasks profile is one moment (what is pending now), not a span of seconds; leave seconds out.").ConfigureAwait(false);
            return;
        }

        if (!TryGetDebug(request, out var debug, out error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        if (debug > 0 && request.Query.ContainsKey("format"))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "debug=1|2 answers text; give either debug or format, not both.").ConfigureAwait(false);
            return;
        }

        if (!coordinator.TryAcquire(CaptureKind.Tasks, ExpectedDuration, out var lease, out var retryAfter))
        {
            await TooManyAsync(context, retryAfter).ConfigureAwait(false);
            return;
        }

        using (lease)
        {
            var (traceId, spanId) = CaptureEndpoints.RequestTrace(context);
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
            CaptureOutcome outcome;
            TasksSnapshot snapshot;
            try
            {
                FillRoutes(InFlightRequests.All());
                (outcome, snapshot) = await coordinator.CaptureTasksAsync(traceId, spanId, _options.Heap.ToSnapshotOptions(), TasksSnapshotCapture.DefaultMaxChains, cancellation.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (HeapWalkProblems.Handles(ex, cancellation.Token))
            {
                await HeapWalkProblems.WriteAsync(context, ex, "tasks snapshot", TasksBusy, ExpectedDuration, _options.Heap.TimeoutSeconds, logger, traceId).ConfigureAwait(false);
                return;
            }

            var headers = context.Response.Headers;
            headers[HeapEndpoints.PauseHeader] = ((long)snapshot.Stats.GcPause.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
            headers[HeapEndpoints.CompleteHeader] = snapshot.Stats.Complete ? "true" : "false";
            headers[ChainsHeader] = snapshot.Chains.ToString(CultureInfo.InvariantCulture);
            if (!outcome.Stored)
            {
                ProfileResponses.MarkNotStored(context.Response, storeHealth);
            }

            if (debug > 0)
            {
                await ProfileResponses.WriteTasksTextAsync(context, outcome.Snapshot, debug, outcome.Profile, context.RequestAborted).ConfigureAwait(false);
                return;
            }

            await ProfileResponses.WriteAsync(context, store, outcome.Snapshot, format, outcome.Profile, context.RequestAborted, outcome.Pprof).ConfigureAwait(false);
        }
    }

    private static bool TryGetDebug(HttpRequest request, out int debug, out string? error)
    {
        debug = 0;
        error = null;
        if (!request.Query.TryGetValue("debug", out var values))
        {
            return true;
        }

        if (values.Count != 1 || values[0] is not ("0" or "1" or "2"))
        {
            error = $"debug must be given once as 0 (pprof), 1 (text, identical chains grouped) or 2 (text, one block per chain with its request); got '{QueryParser.Echo(values.ToString())}'.";
            return false;
        }

        debug = values[0]![0] - '0';
        return true;
    }

    private static Task TooManyAsync(HttpContext context, TimeSpan retryAfter) => Problems.TooManyAsync(context, retryAfter, TasksBusy);

    private sealed record RequestsBody(bool Tracking, string? Detail, int Total, int Listed, long Untracked, IReadOnlyList<RequestEntry> Requests);

    private sealed record RequestEntry(string TraceId, string SpanId, string Method, string? Route, double AgeMs, string State, IReadOnlyList<int> OsThreadIds);
}
