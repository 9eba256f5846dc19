using System.Diagnostics;

namespace TraceProf.AspNetCore.Triggers;

/// <summary>A finished request whose slice of the flight recorder is to be saved.</summary>
/// <param name="SnapshotId">The id the CPU snapshot will have (already on the request's span).</param>
/// <param name="TraceId">The request's trace.</param>
/// <param name="SpanId">The request's span.</param>
/// <param name="StartTimestamp">When it started (Stopwatch clock).</param>
/// <param name="EndTimestamp">When it ended (Stopwatch clock).</param>
/// <param name="Trigger">Why: <c>status:503</c>, <c>exception:&lt;type&gt;</c> or <c>slow:&lt;ms&gt;</c>.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Route">The route template, or the path when no route matched.</param>
internal sealed record TriggeredRequest(
    string SnapshotId,
    ActivityTraceId TraceId,
    ActivitySpanId SpanId,
    long StartTimestamp,
    long EndTimestamp,
    string Trigger,
    string Method,
    string Route);
