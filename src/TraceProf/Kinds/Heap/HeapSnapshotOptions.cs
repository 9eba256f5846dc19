namespace TraceProf.Kinds.Heap;

/// <summary>Bounds of one heap snapshot.</summary>
internal sealed class HeapSnapshotOptions
{
    /// <summary>Default of <see cref="MaxObjects"/>.</summary>
    public const int DefaultMaxObjects = 20_000_000;

    /// <summary>Default of <see cref="MaxBufferMegabytes"/>.</summary>
    public const int DefaultMaxBufferMegabytes = 1024;

    /// <summary>The smallest session buffer, whatever the heap.</summary>
    public const int MinBufferMegabytes = 64;

    /// <summary>Default of <see cref="MaxPathDepth"/>.</summary>
    public const int DefaultMaxPathDepth = 32;

    /// <summary>Gets the default options.</summary>
    public static HeapSnapshotOptions Default { get; } = new();

    /// <summary>
    /// Gets or sets how many objects the graph keeps; objects beyond are counted, not kept, and the profile says
    /// how many. About 24 bytes per object plus 4 per reference while the profile is built.
    /// Default value: <see cref="DefaultMaxObjects"/>.
    /// </summary>
    public int MaxObjects { get; set; } = DefaultMaxObjects;

    /// <summary>
    /// Gets or sets the upper bound of the session's buffer in megabytes. The buffer is sized from the heap
    /// (≈40 bytes of event stream per live object) and clamped to [<see cref="MinBufferMegabytes"/>, this].
    /// Default value: <see cref="DefaultMaxBufferMegabytes"/>.
    /// </summary>
    public int MaxBufferMegabytes { get; set; } = DefaultMaxBufferMegabytes;

    /// <summary>
    /// Gets or sets the largest GC heap (bytes, as of the last GC) a snapshot is taken of; 0 for no limit.
    /// Default value: 0.
    /// </summary>
    public long MaxHeapBytes { get; set; }

    /// <summary>Gets or sets how long the whole snapshot may take. Default value: 60 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets the most frames of a retention path (root and object type included); deeper paths keep
    /// their root side and their object side with a <c>[…]</c> frame between. Default value: <see cref="DefaultMaxPathDepth"/>.
    /// </summary>
    public int MaxPathDepth { get; set; } = DefaultMaxPathDepth;
}
