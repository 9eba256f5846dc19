using System.Diagnostics;
using TraceProf.Kinds;

namespace TraceProf.Pipeline;

/// <summary>What one on-demand capture records, and under which trace it is stored.</summary>
/// <param name="Kind">What to capture.</param>
/// <param name="Duration">How long.</param>
/// <param name="TraceId">The trace of the request that asked for it.</param>
/// <param name="SpanId">That request's span, or default.</param>
internal sealed record CaptureRequest(CaptureKind Kind, TimeSpan Duration, ActivityTraceId TraceId, ActivitySpanId SpanId)
{
    /// <summary>Gets whether the profile keeps every frame (the runtime's async plumbing is folded by default).</summary>
    public bool RawFrames { get; init; }

    /// <summary>Gets what asked for the capture: <c>request</c> (default), or a trigger such as <c>threadpool:starvation</c>.</summary>
    public string Trigger { get; init; } = "request";

    /// <summary>
    /// Gets whether the raw capture must be stored even for a kind that does not keep it by default
    /// (<see cref="KindDefinition.StoresNettrace"/>): the caller asked for <c>format=nettrace</c>.
    /// </summary>
    public bool KeepNettrace { get; init; }

    /// <summary>
    /// Gets the CPU sampler this capture asks for: null for the configured one (<see cref="CaptureCoordinatorOptions.CpuSampler"/>),
    /// false for EventPipe's (which gives wall time too), true for perf_event (refused where unavailable).
    /// </summary>
    public bool? UsePerf { get; init; }
}
