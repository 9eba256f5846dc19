namespace TraceProf.Storage;

/// <summary>
/// Where a local snapshot store keeps its files and how much it keeps. Retention applies all three limits;
/// whichever is reached first deletes the oldest snapshots.
/// </summary>
public sealed class SnapshotStoreOptions
{
    /// <summary>The default of <see cref="MaxCount"/>.</summary>
    public const int DefaultMaxCount = 1000;

    /// <summary>The largest <see cref="MaxCount"/> accepted; retention scans every row after each add.</summary>
    public const int MaxCountLimit = 100_000;

    /// <summary>The default of <see cref="MaxTotalBytes"/>: 1 GiB.</summary>
    public const long DefaultMaxTotalBytes = 1L << 30;

    /// <summary>The smallest <see cref="MaxTotalBytes"/> accepted: 1 MiB.</summary>
    public const long MinTotalBytes = 1L << 20;

    /// <summary>The default of <see cref="MaxAge"/>: 7 days.</summary>
    public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromDays(7);

    /// <summary>The smallest <see cref="MaxAge"/> accepted: 1 minute.</summary>
    public static readonly TimeSpan MinAge = TimeSpan.FromMinutes(1);

    /// <summary>The largest <see cref="MaxAge"/> accepted: 3650 days.</summary>
    public static readonly TimeSpan MaxAgeLimit = TimeSpan.FromDays(3650);

    /// <summary>
    /// The folder that holds <c>snapshots.db</c> and the <c>blobs</c> folder. Created when missing.
    /// Only one store instance at a time may use a folder: on open it deletes files it does not know.
    /// </summary>
    /// <value>Required; no default. A relative path is resolved against the current directory.</value>
    public string Path { get; set; } = string.Empty;

    /// <summary>The most snapshots kept; the oldest beyond it are deleted.</summary>
    /// <value>Default value: 1000. Allowed range: 1 to 100,000.</value>
    public int MaxCount { get; set; } = DefaultMaxCount;

    /// <summary>
    /// How long a snapshot is kept, measured from when the store added it (by the store's
    /// <see cref="TimeProvider"/>), not from <see cref="SnapshotInfo.StartedAt"/>.
    /// </summary>
    /// <value>Default value: 7 days. Allowed range: 1 minute to 3650 days.</value>
    public TimeSpan MaxAge { get; set; } = DefaultMaxAge;

    /// <summary>
    /// The most bytes of artifact files kept; the oldest snapshots are deleted until the total fits.
    /// A single snapshot larger than this is refused.
    /// </summary>
    /// <value>Default value: 1 GiB (1,073,741,824). Allowed range: 1 MiB to <see cref="long.MaxValue"/>.</value>
    public long MaxTotalBytes { get; set; } = DefaultMaxTotalBytes;

    /// <summary>
    /// The folder captures write to before they are stored (the coordinator's temp folder), or null. The store's
    /// open deletes leftovers there older than ten minutes, and the SQLite store counts the rest toward
    /// <see cref="MaxTotalBytes"/>. Internal: the ASP.NET package sets it to the same folder as the coordinator's.
    /// </summary>
    internal string? CaptureTempPath { get; set; }
}
