namespace TraceProf.Kinds;

/// <summary>
/// A set of capture kinds as flags: what one EventPipe session records. An on-demand capture is one kind; the
/// flight recorder's session is the union of its kinds. <see cref="KindProviders"/> turns a set into providers.
/// </summary>
[Flags]
internal enum CaptureKindSet
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>The runtime's thread sampler.</summary>
    Cpu = 1 << CaptureKind.Cpu,

    /// <summary>Sampled allocations.</summary>
    Allocations = 1 << CaptureKind.Allocations,

    /// <summary>Lock contention.</summary>
    Contention = 1 << CaptureKind.Contention,

    /// <summary>The stacks of all threads now.</summary>
    Threads = 1 << CaptureKind.Threads,

    /// <summary>A raw trace.</summary>
    Trace = 1 << CaptureKind.Trace,

    /// <summary>First-chance exceptions.</summary>
    Exceptions = 1 << CaptureKind.Exceptions,

    /// <summary>A heap snapshot (its own session: never part of the recorder's).</summary>
    Heap = 1 << CaptureKind.Heap,

    /// <summary>Lock contention plus blocking waits.</summary>
    Block = 1 << CaptureKind.Block,

    Tasks = 1 << CaptureKind.Tasks,
}

/// <summary>Conversions between <see cref="CaptureKind"/> and <see cref="CaptureKindSet"/>.</summary>
internal static class CaptureKindSetExtensions
{
    /// <summary>The set holding only <paramref name="kind"/>.</summary>
    public static CaptureKindSet AsSet(this CaptureKind kind) =>
        Enum.IsDefined(kind) ? (CaptureKindSet)(1 << (int)kind) : throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
}
