using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;

namespace TraceProf.Capture;

/// <summary>The one place where a <see cref="CaptureKind"/> becomes EventPipe providers and session settings.</summary>
public static class CaptureProviders
{
    /// <summary>The runtime's sampling profiler: one event per managed thread per tick, with its stack.</summary>
    public const string SampleProfiler = "Microsoft-DotNETCore-SampleProfiler";

    /// <summary>The runtime provider.</summary>
    public const string Runtime = "Microsoft-Windows-DotNETRuntime";

    /// <summary>
    /// The session's circular buffer in megabytes. Large enough that a busy 2-core process does not drop
    /// samples or rundown events while the drain thread catches up; a buffer too small leaves frames unnamed.
    /// </summary>
    public const int BufferMegabytes = 64;

    // Loader (0x8) | Jit (0x10) | NGen (0x20): method and module load events, so that methods jitted during the
    // session get names; rundown (requested separately) names the ones jitted before it started.
    private const long MethodNameKeywords = 0x8 | 0x10 | 0x20;

    private const long GcKeyword = 0x1;
    private const long ContentionKeyword = 0x4000;
    private const long ExceptionKeyword = 0x8000;

    // .NET 10's randomized allocation sampling; runtimes without it ignore the keyword, and the GC keyword at
    // Verbose then yields GCAllocationTick instead (the runtime emits one or the other, never both).
    private const long AllocationSamplingKeyword = 0x800_0000_0000;

    /// <summary>Gets the providers for a kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The providers.</returns>
    public static IReadOnlyList<EventPipeProvider> For(CaptureKind kind) => kind switch
    {
        CaptureKind.Cpu =>
        [
            new EventPipeProvider(SampleProfiler, EventLevel.Informational),
            new EventPipeProvider(Runtime, EventLevel.Verbose, MethodNameKeywords),
        ],
        CaptureKind.Allocations => Environment.Version.Major >= 10
            ? [new EventPipeProvider(Runtime, EventLevel.Verbose, MethodNameKeywords | AllocationSamplingKeyword)]
            : [new EventPipeProvider(Runtime, EventLevel.Verbose, MethodNameKeywords | GcKeyword)],
        CaptureKind.Contention => [new EventPipeProvider(Runtime, EventLevel.Verbose, MethodNameKeywords | ContentionKeyword)],
        CaptureKind.Threads => For(CaptureKind.Cpu),
        CaptureKind.Trace =>
        [
            new EventPipeProvider(SampleProfiler, EventLevel.Informational),
            // One provider entry per name: the level is shared, so GC at Verbose also brings GCAllocationTick.
            new EventPipeProvider(Runtime, EventLevel.Verbose, MethodNameKeywords | GcKeyword | ContentionKeyword | ExceptionKeyword),
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Whether a kind needs rundown (method names of code jitted before the session started).</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>True for every kind that resolves stacks.</returns>
    public static bool RequestRundown(CaptureKind kind) => kind switch
    {
        CaptureKind.Cpu or CaptureKind.Allocations or CaptureKind.Contention or CaptureKind.Threads or CaptureKind.Trace => true,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
