using System.ComponentModel.DataAnnotations;

namespace TraceProf.AspNetCore;

/// <summary>
/// How CPU is sampled, for <c>/debug/profile</c> and the flight recorder alike (<c>TraceProf:Cpu</c>).
/// <c>perf</c> samples each thread from the kernel (perf_event, Linux) every <see cref="PerfPeriodMilliseconds"/> of
/// its CPU time, suspending nothing; <c>eventpipe</c> is the runtime's thread sampler, which suspends every managed
/// thread at each tick and also gives wall time.
/// </summary>
public sealed class TraceProfCpuOptions
{
    /// <summary>The default of <see cref="Sampler"/>.</summary>
    public const string DefaultSampler = "auto";

    /// <summary>The default of <see cref="PerfPeriodMilliseconds"/>.</summary>
    public const int DefaultPerfPeriodMilliseconds = 10;

    /// <summary>
    /// Gets or sets the CPU sampler: <c>auto</c> (perf_event where this process may open it — Linux with
    /// kernel.perf_event_paranoid ≤ 2 or CAP_PERFMON — EventPipe's sampler otherwise), <c>perf</c> (start fails where it
    /// is unavailable, saying why) or <c>eventpipe</c>. Default value: <c>auto</c>. Under perf the managed caller of a
    /// native leaf built without frame pointers (libm, much of libc), which the kernel's frame-pointer walk skips, is
    /// put back from a copy of the leaf's stack (docs/frames.md); <c>eventpipe</c> gives wall time too.
    /// </summary>
    public string Sampler { get; set; } = DefaultSampler;

    /// <summary>
    /// Gets or sets the CPU time of a thread between two perf_event samples, in milliseconds (10 = 100 Hz while the
    /// thread runs). Default value: 10. Range: 1 to 1000.
    /// </summary>
    [Range(1, 1000)]
    public int PerfPeriodMilliseconds { get; set; } = DefaultPerfPeriodMilliseconds;
}
