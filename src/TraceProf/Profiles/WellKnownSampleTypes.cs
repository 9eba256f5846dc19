namespace TraceProf.Profiles;

/// <summary>The sample types TraceProf writes, named as Go's pprof names them so existing tools understand them.</summary>
internal static class WellKnownSampleTypes
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

    /// <summary><c>alloc_objects/count</c>: estimated number of objects allocated.</summary>
    public static readonly SampleType AllocObjects = new("alloc_objects", "count");

    /// <summary><c>alloc_space/bytes</c>: estimated bytes allocated.</summary>
    public static readonly SampleType AllocSpace = new("alloc_space", "bytes");

    /// <summary>The columns of an allocation profile: objects, space. The default is space (index 1).</summary>
    public static IReadOnlyList<SampleType> AllocationProfile { get; } = [AllocObjects, AllocSpace];

    /// <summary><c>contentions/count</c>: how many times a thread waited for a lock.</summary>
    public static readonly SampleType Contentions = new("contentions", "count");

    /// <summary><c>delay/nanoseconds</c>: how long threads waited for locks.</summary>
    public static readonly SampleType Delay = new("delay", "nanoseconds");

    /// <summary>The columns of a contention profile: contentions, delay. The default is delay (index 1).</summary>
    public static IReadOnlyList<SampleType> ContentionProfile { get; } = [Contentions, Delay];

    /// <summary><c>threads/count</c>: one per managed thread, like Go's goroutine profile.</summary>
    public static readonly SampleType Threads = new("threads", "count");

    /// <summary>The one column of a thread-stacks profile.</summary>
    public static IReadOnlyList<SampleType> ThreadsProfile { get; } = [Threads];
}
