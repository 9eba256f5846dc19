using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.AspNetCore.Security;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Pipeline;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>The on-demand captures: <c>/profile</c>, <c>/pprof/allocs</c>, <c>/pprof/contention</c>, <c>/pprof/threads</c>, <c>/pprof/trace</c>.</summary>
internal sealed class CaptureEndpoints(
    EndpointGuard guard,
    CaptureCoordinator coordinator,
    ISnapshotStore store,
    IOptions<TraceProfOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<TraceProfEndpoints> logger, // the category the endpoints always logged under
    SnapshotStoreHealth storeHealth)
{
    // The thread-stacks capture only needs one sampler tick per thread; a short session is plenty.
    private static readonly TimeSpan ThreadsCaptureDuration = TimeSpan.FromMilliseconds(200);

    private readonly TraceProfOptions _options = options.Value;

    /// <summary>The handler of one kind, behind the gate with the kind's capability.</summary>
    public RequestDelegate Capture(CaptureKind kind) => guard.Guard(CapabilityOf(kind), context => CaptureAsync(context, kind));

    private static Capabilities CapabilityOf(CaptureKind kind) => kind switch
    {
        CaptureKind.Cpu => Capabilities.Cpu,
        CaptureKind.Allocations => Capabilities.Allocs,
        CaptureKind.Contention => Capabilities.Contention,
        CaptureKind.Threads => Capabilities.Threads,
        CaptureKind.Trace => Capabilities.Trace,
        CaptureKind.Exceptions => Capabilities.Exceptions,
        CaptureKind.Block => Capabilities.Contention,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private async Task CaptureAsync(HttpContext context, CaptureKind kind)
    {
        var request = context.Request;
        var seconds = 0;
        var debug = 0;
        string? error = null;
        var format = ProfileFormat.Pprof;
        var rawFrames = false;
        bool? usePerf = null;
        var valid = (kind == CaptureKind.Threads
                ? QueryParser.TryGetDebug(request, out debug, out error)
                : QueryParser.TryGetSeconds(request, _options, out seconds, out error))
            && QueryParser.TryGetFormat(request, kind == CaptureKind.Trace ? ProfileFormat.Nettrace : ProfileFormat.Pprof, out format, out error)
            && QueryParser.TryGetRaw(request, out rawFrames, out error)
            && (kind != CaptureKind.Cpu || QueryParser.TryGetSampler(request, out usePerf, out error));
        if (!valid)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        var duration = kind == CaptureKind.Threads ? ThreadsCaptureDuration : TimeSpan.FromSeconds(seconds);
        if (!coordinator.TryAcquire(kind, duration, out var lease, out var retryAfter))
        {
            await Problems.TooManyAsync(context, retryAfter, $"A {CaptureKinds.Name(kind)} capture is already running; one runs at a time per kind.").ConfigureAwait(false);
            return;
        }

        using (lease)
        {
            var (traceId, spanId) = RequestTrace(context);
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
            CaptureOutcome outcome;
            try
            {
                outcome = await coordinator.CaptureAsync(new CaptureRequest(kind, duration, traceId, spanId) { RawFrames = rawFrames, KeepNettrace = format == ProfileFormat.Nettrace, UsePerf = usePerf }, cancellation.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                Log.CaptureCancelled(logger, traceId);
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
                Log.CaptureUnavailable(logger, ex);
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ex.Message).ConfigureAwait(false);
                return;
            }

            if (!outcome.Stored)
            {
                // The store kept failing: the caller still gets the profile, and is told it was not kept.
                ProfileResponses.MarkNotStored(context.Response, storeHealth);

                if (format == ProfileFormat.Nettrace)
                {
                    await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The snapshot store is unavailable, so the raw capture was not kept; ask for format=pprof, speedscope or folded, or retry when the store is back.").ConfigureAwait(false);
                    return;
                }
            }

            if (debug > 0)
            {
                await ProfileResponses.WriteThreadDumpAsync(context, store, outcome.Snapshot, debug, outcome.Profile, context.RequestAborted).ConfigureAwait(false);
                return;
            }

            await ProfileResponses.WriteAsync(context, store, outcome.Snapshot, format, outcome.Profile, context.RequestAborted, outcome.Pprof).ConfigureAwait(false);
        }
    }

    internal static (ActivityTraceId TraceId, ActivitySpanId SpanId) RequestTrace(HttpContext context)
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
}
