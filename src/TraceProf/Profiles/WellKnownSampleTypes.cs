namespace TraceProf.Profiles;

/// <summary>The sample types TraceProf writes, named as Go's pprof names them so existing tools understand them.</summary>
public static class WellKnownSampleTypes
{
    /// <summary><c>samples/count</c>: how many sampler ticks landed on the stack.</summary>
    public static readonly SampleType Samples = new("samples", "count");

    /// <summary><c>cpu/nanoseconds</c>: ticks on which the thread was running managed code, times the period.</summary>
    public static readonly SampleType Cpu = new("cpu", "nanoseconds");

    /// <summary><c>wall/nanoseconds</c>: every tick, running or not, times the period.</summary>
    public static readonly SampleType Wall = new("wall", "nanoseconds");

    /// <summary>The columns of a CPU profile, in order: samples, cpu, wall. The default is cpu (index 1).</summary>
    public static IReadOnlyList<SampleType> CpuProfile { get; } = [Samples, Cpu, Wall];

    /// <summary>Index of <see cref="Cpu"/> in <see cref="CpuProfile"/>.</summary>
    public const int CpuProfileDefaultIndex = 1;
}
