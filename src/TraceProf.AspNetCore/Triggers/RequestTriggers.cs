using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Triggers;

/// <summary>
/// Decides, when a request ends, whether its slice of the flight recorder is saved: a status at or above the
/// threshold, an unhandled exception, or a duration over the (per-route) threshold. An admitted request's span
/// is tagged with the snapshot id at once — before the span ends and is exported — and the work is queued for
/// <see cref="FlightRecorderService"/>.
/// </summary>
internal sealed class RequestTriggers
{
    /// <summary>The span tag naming the snapshot saved for the request.</summary>
    public const string SnapshotIdTag = "traceprof.snapshot.id";

    /// <summary>The span tag Grafana's traces-to-profiles link reads (Pyroscope's convention).</summary>
    public const string PyroscopeProfileIdTag = "pyroscope.profile.id";

    private const int QueueCapacity = 64;

    private readonly TraceProfFlightRecorderOptions _options;
    private readonly string _pathPrefix;
    private readonly TimeProvider _time;
    private readonly TraceProfAspNetCoreMetrics _metrics;
    private readonly SnapshotRateLimiter _limiter;
    private readonly Channel<TriggeredRequest> _queue = Channel.CreateBounded<TriggeredRequest>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private long _rateLimited;
    private long _duplicates;
    private long _queueFull;
    private long _admitted;
    private volatile bool _active;

    public RequestTriggers(IOptions<TraceProfOptions> options, TimeProvider time, TraceProfAspNetCoreMetrics metrics)
    {
        _metrics = metrics;
        _options = options.Value.FlightRecorder;
        _pathPrefix = options.Value.PathPrefix;
        _time = time;
        _limiter = new SnapshotRateLimiter(_options.MaxSnapshotsPerMinute, time);
    }

    /// <summary>Gets or sets whether the recorder runs, so that triggers are evaluated at all.</summary>
    public bool IsActive
    {
        get => _active;
        set => _active = value;
    }

    /// <summary>Gets the queue the service reads.</summary>
    public ChannelReader<TriggeredRequest> Queue => _queue.Reader;

    /// <summary>Gets the counts since start: admitted, over the rate limit, same trace again, queue full.</summary>
    public (long Admitted, long RateLimited, long Duplicates, long QueueFull) Counts =>
        (Interlocked.Read(ref _admitted), Interlocked.Read(ref _rateLimited), Interlocked.Read(ref _duplicates), Interlocked.Read(ref _queueFull));

    /// <summary>Evaluates a finished request.</summary>
    /// <param name="context">The request.</param>
    /// <param name="activity">Its root span.</param>
    /// <param name="route">The route template, if routing chose one.</param>
    /// <param name="startTimestamp">When it started (Stopwatch clock).</param>
    /// <param name="unhandled">The exception that left the pipeline, if any.</param>
    public void OnRequestEnded(HttpContext context, Activity activity, string? route, long startTimestamp, Exception? unhandled)
    {
        if (!_active || activity.IdFormat != ActivityIdFormat.W3C || context.Request.Path.StartsWithSegments(_pathPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var end = Stopwatch.GetTimestamp();
        var trigger = Evaluate(context, route, Stopwatch.GetElapsedTime(startTimestamp, end), unhandled);
        if (trigger is null)
        {
            return;
        }

        var traceId = activity.TraceId;
        switch (_limiter.TryAdmit(traceId.ToHexString()))
        {
            case "duplicate_trace":
                Interlocked.Increment(ref _duplicates);
                _metrics.SnapshotDropped("duplicate_trace");
                return;
            case "rate_limited":
                Interlocked.Increment(ref _rateLimited);
                _metrics.SnapshotDropped("rate_limited");
                return;
            default:
                break;
        }

        var request = new TriggeredRequest(
            SnapshotIds.NewId(_time),
            traceId,
            activity.SpanId,
            startTimestamp,
            end,
            trigger,
            context.Request.Method,
            route ?? context.Request.Path.Value ?? "/");
        if (!_queue.Writer.TryWrite(request))
        {
            Interlocked.Increment(ref _queueFull);
            _metrics.SnapshotDropped("queue_full");
            return;
        }

        Interlocked.Increment(ref _admitted);

        // The span is still open here (the hosting layer ends it after the whole pipeline), so exporters see these.
        activity.SetTag(SnapshotIdTag, request.SnapshotId);
        activity.SetTag(PyroscopeProfileIdTag, activity.SpanId.ToHexString());
        activity.AddEvent(new ActivityEvent("traceprof.snapshot", tags: new ActivityTagsCollection
        {
            [SnapshotIdTag] = request.SnapshotId,
            ["traceprof.trigger"] = trigger,
        }));
    }

    /// <summary>Takes the counts of what was not saved since the last call, for the periodic log line.</summary>
    public (long RateLimited, long Duplicates, long QueueFull) TakeDropped(ref (long, long, long) previous)
    {
        var now = (Interlocked.Read(ref _rateLimited), Interlocked.Read(ref _duplicates), Interlocked.Read(ref _queueFull));
        var delta = (now.Item1 - previous.Item1, now.Item2 - previous.Item2, now.Item3 - previous.Item3);
        previous = now;
        return delta;
    }

    private string? Evaluate(HttpContext context, string? route, TimeSpan elapsed, Exception? unhandled)
    {
        if (unhandled is not null)
        {
            if (context.RequestAborted.IsCancellationRequested && unhandled is OperationCanceledException)
            {
                return null; // the client left; nothing failed
            }

            if (_options.OnUnhandledException)
            {
                return "exception:" + unhandled.GetType().FullName;
            }
        }

        var status = unhandled is not null && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
        if (_options.MinStatusCode > 0 && status >= _options.MinStatusCode)
        {
            return "status:" + status.ToString(CultureInfo.InvariantCulture);
        }

        var threshold = route is not null && _options.SlowRoutes.TryGetValue(route, out var perRoute) ? perRoute : _options.SlowRequestMilliseconds;
        var ms = (long)elapsed.TotalMilliseconds;
        return threshold > 0 && ms > threshold ? "slow:" + ms.ToString(CultureInfo.InvariantCulture) : null;
    }
}
