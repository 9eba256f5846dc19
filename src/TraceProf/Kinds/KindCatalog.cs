using TraceProf.Kinds.Allocations;
using TraceProf.Kinds.Block;
using TraceProf.Kinds.Contention;
using TraceProf.Kinds.Cpu;
using TraceProf.Kinds.Exceptions;
using TraceProf.Kinds.Heap;
using TraceProf.Kinds.Tasks;
using TraceProf.Kinds.Threads;
using TraceProf.Kinds.Trace;

namespace TraceProf.Kinds;

/// <summary>The capture kinds there are, in <see cref="CaptureKind"/> order. A new kind adds one line here.</summary>
internal static class KindCatalog
{
    /// <summary>Gets every kind's definition, indexed by <see cref="CaptureKind"/>.</summary>
    public static IReadOnlyList<KindDefinition> All { get; } =
    [
        new CpuKind(),
        new AllocationsKind(),
        new ContentionKind(),
        new ThreadsKind(),
        new TraceKind(),
        new ExceptionsKind(),
        new HeapKind(),
        new BlockKind(),
        new TasksKind(),
    ];

    /// <summary>The definition of a kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>Its definition.</returns>
    public static KindDefinition Get(CaptureKind kind) =>
        (uint)kind < (uint)All.Count ? All[(int)kind] : throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
}
