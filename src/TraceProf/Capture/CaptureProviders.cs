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
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Whether a kind needs rundown (method names of code jitted before the session started).</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>True for every kind that resolves stacks.</returns>
    public static bool RequestRundown(CaptureKind kind) => kind switch
    {
        CaptureKind.Cpu => true,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
