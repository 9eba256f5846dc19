using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.Capture;
using TraceProf.Kinds.Heap;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>
/// How a heap walk that failed is answered, for the two captures that walk the heap (<c>/debug/pprof/heap</c> and
/// <c>/debug/pprof/tasks</c>): one mapping of each failure to its status and a detail naming the setting to change.
/// </summary>
internal static class HeapWalkProblems
{
    /// <summary>Whether <paramref name="exception"/> is a heap walk's failure that <see cref="WriteAsync"/> answers.</summary>
    /// <param name="exception">What the capture threw.</param>
    /// <param name="cancellation">The capture's cancellation: a cancellation answers only when it was this one.</param>
    /// <returns>Whether it is answered here.</returns>
    public static bool Handles(Exception exception, CancellationToken cancellation) => exception switch
    {
        OperationCanceledException => cancellation.IsCancellationRequested,
        HeapTooLargeException or HeapSnapshotInProgressException or TimeoutException or SnapshotTooLargeException or CaptureUnavailableException => true,
        _ => false,
    };

    /// <summary>Answers a failure <see cref="Handles"/> accepted.</summary>
    /// <param name="context">The request.</param>
    /// <param name="exception">The failure.</param>
    /// <param name="what">The capture, as the detail names it (<c>heap snapshot</c>, <c>tasks snapshot</c>).</param>
    /// <param name="busy">The 429's first sentence when another heap walk runs.</param>
    /// <param name="retryAfter">The 429's <c>Retry-After</c>.</param>
    /// <param name="timeoutSeconds">TraceProf:Heap:TimeoutSeconds.</param>
    /// <param name="logger">The endpoint's logger.</param>
    /// <param name="traceId">The capture's trace (for the cancellation log line).</param>
    /// <returns>A task that completes when the problem is written.</returns>
    public static Task WriteAsync(HttpContext context, Exception exception, string what, string busy, TimeSpan retryAfter, int timeoutSeconds, ILogger logger, ActivityTraceId traceId)
    {
        switch (exception)
        {
            case OperationCanceledException:
                Log.CaptureCancelled(logger, traceId);
                return Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, $"The {what} was cancelled: the client went away or the application is stopping.");
            case HeapTooLargeException tooLarge:
                return Problems.WriteAsync(
                    context,
                    StatusCodes.Status507InsufficientStorage,
                    $"The GC heap is {tooLarge.HeapBytes >> 20} MB, more than TraceProf:Heap:MaxHeapMegabytes ({tooLarge.LimitBytes >> 20}) allows; a {what} walks the heap, so nothing was paused. Raise the setting to take one of a heap this large (its pause grows with the heap).");
            case HeapSnapshotInProgressException:
                return Problems.TooManyAsync(context, retryAfter, busy);
            case TimeoutException:
                return Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, $"The {what}'s heap walk did not finish within {timeoutSeconds} s (TraceProf:Heap:TimeoutSeconds); its session was stopped and released.");
            case SnapshotTooLargeException unstorable:
                return Problems.WriteAsync(context, StatusCodes.Status507InsufficientStorage, $"The {what} was made but cannot be stored: {unstorable.Message} Raise TraceProf:Storage:MaxTotalMegabytes.");
            case CaptureUnavailableException unavailable:
                Log.CaptureUnavailable(logger, unavailable);
                return Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, unavailable.Message);
            default:
                throw new ArgumentException("Not a heap walk failure this answers (ask Handles first).", nameof(exception), exception);
        }
    }
}
