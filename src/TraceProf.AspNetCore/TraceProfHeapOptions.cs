using System.ComponentModel.DataAnnotations;

namespace TraceProf.AspNetCore;

/// <summary>
/// Bounds of <c>/debug/pprof/heap</c>: a heap snapshot induces one blocking full GC and walks the heap while the
/// process is suspended (tens of milliseconds at 50 MB, about half a second at 500 MB, seconds for millions of
/// objects — docs/benchmarks.md), and its event stream needs about 44 bytes of session buffer per live object.
/// </summary>
public sealed class TraceProfHeapOptions
{
    /// <summary>The default of <see cref="MaxHeapMegabytes"/>.</summary>
    public const int DefaultMaxHeapMegabytes = 4096;

    /// <summary>The default of <see cref="MaxBufferMegabytes"/>.</summary>
    public const int DefaultMaxBufferMegabytes = 1024;

    /// <summary>The default of <see cref="TimeoutSeconds"/>.</summary>
    public const int DefaultTimeoutSeconds = 60;

    /// <summary>The default of <see cref="MaxObjects"/>.</summary>
    public const int DefaultMaxObjects = 20_000_000;

    /// <summary>
    /// Gets or sets the largest GC heap a snapshot is taken of, in megabytes; a larger heap is refused (507) before
    /// anything is paused. Default value: 4096. Range: 1 to 1048576.
    /// </summary>
    [Range(1, 1_048_576)]
    public int MaxHeapMegabytes { get; set; } = DefaultMaxHeapMegabytes;

    /// <summary>
    /// Gets or sets the most session buffer a snapshot may take, in megabytes (sized from the heap up to this; a
    /// buffer too small loses objects, and the profile then says how many). Default value: 1024. Range: 64 to 16384.
    /// </summary>
    [Range(64, 16_384)]
    public int MaxBufferMegabytes { get; set; } = DefaultMaxBufferMegabytes;

    /// <summary>Gets or sets how long a snapshot may take in all, in seconds. Default value: 60. Range: 5 to 600.</summary>
    [Range(5, 600)]
    public int TimeoutSeconds { get; set; } = DefaultTimeoutSeconds;

    /// <summary>
    /// Gets or sets the most objects a snapshot's graph keeps (memory: about 130 bytes each); the rest are counted and
    /// named in the profile's comment. Default value: 20000000. Range: 1000 to 200000000.
    /// </summary>
    [Range(1000, 200_000_000)]
    public int MaxObjects { get; set; } = DefaultMaxObjects;

    /// <summary>The engine's bounds of one snapshot, for the endpoint and the memory-growth trigger alike.</summary>
    internal Kinds.Heap.HeapSnapshotOptions ToSnapshotOptions() => new()
    {
        MaxHeapBytes = MaxHeapMegabytes * (1L << 20),
        MaxBufferMegabytes = MaxBufferMegabytes,
        MaxObjects = MaxObjects,
        Timeout = TimeSpan.FromSeconds(TimeoutSeconds),
    };
}
