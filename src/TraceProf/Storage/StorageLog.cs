using Microsoft.Extensions.Logging;

namespace TraceProf.Storage;

/// <summary>Log messages of the snapshot store. Event ids 5100–5199 belong to Storage.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(EventId = 5100, EventName = "SnapshotStoreOpened", Level = LogLevel.Information,
        Message = "Snapshot store opened at {Path} with {Count} snapshots (schema version {Version}).")]
    public static partial void Opened(ILogger logger, string path, long count, int version);

    [LoggerMessage(EventId = 5101, EventName = "SnapshotStored", Level = LogLevel.Debug,
        Message = "Stored snapshot {SnapshotId} for trace {TraceId} ({Bytes} bytes).")]
    public static partial void Stored(ILogger logger, string snapshotId, string traceId, long bytes);

    [LoggerMessage(EventId = 5102, EventName = "SnapshotsExpired", Level = LogLevel.Debug,
        Message = "Retention deleted {Count} snapshots.")]
    public static partial void Expired(ILogger logger, int count);

    [LoggerMessage(EventId = 5103, EventName = "SnapshotFileDeleteFailed", Level = LogLevel.Warning,
        Message = "Could not delete {File}; it will be removed when the store next opens.")]
    public static partial void FileDeleteFailed(ILogger logger, Exception exception, string file);

    [LoggerMessage(EventId = 5104, EventName = "OrphanFilesDeleted", Level = LogLevel.Information,
        Message = "Deleted {Count} snapshot files that had no metadata row (an earlier run stopped mid-write).")]
    public static partial void OrphansDeleted(ILogger logger, int count);

    [LoggerMessage(EventId = 5105, EventName = "MissingArtifactsForgotten", Level = LogLevel.Warning,
        Message = "{Count} snapshot artifacts were missing on disk; their rows were updated or removed.")]
    public static partial void MissingArtifacts(ILogger logger, int count);

    [LoggerMessage(EventId = 5106, EventName = "RetentionFailed", Level = LogLevel.Warning,
        Message = "Retention failed after storing snapshot {SnapshotId}; it will run again after the next add.")]
    public static partial void RetentionFailed(ILogger logger, Exception exception, string snapshotId);

    [LoggerMessage(EventId = 5107, EventName = "NotWalMode", Level = LogLevel.Warning,
        Message = "SQLite refused WAL mode for {Path} (journal mode is {Mode}); readers may wait for writers.")]
    public static partial void NotWal(ILogger logger, string path, string mode);

    [LoggerMessage(EventId = 5108, EventName = "TempFilesSwept", Level = LogLevel.Information,
        Message = "Deleted {Count} files of captures that never finished (an earlier run stopped mid-capture) from {Folder}.")]
    public static partial void TempFilesSwept(ILogger logger, int count, string folder);

    [LoggerMessage(EventId = 5109, EventName = "SnapshotStoreUnavailable", Level = LogLevel.Error,
        Message = "The {Provider} snapshot store at {Location} (setting {Setting}) cannot be used: {Reason} The application runs on: captures answer but are not stored (X-TraceProf-Snapshot-Status: not-stored) and the index shows the store's state; {Recovery}.")]
    public static partial void StoreUnavailable(ILogger logger, Exception exception, string provider, string location, string setting, string reason, string recovery);

    [LoggerMessage(EventId = 5110, EventName = "SnapshotStoreAvailable", Level = LogLevel.Information,
        Message = "The {Provider} snapshot store at {Location} is available again; snapshots are stored from now on.")]
    public static partial void StoreAvailable(ILogger logger, string provider, string location);

    [LoggerMessage(EventId = 5111, EventName = "SnapshotStoreRetryFailed", Level = LogLevel.Debug,
        Message = "The {Provider} snapshot store at {Location} is still unavailable; next attempt in {Delay}.")]
    public static partial void StoreRetryFailed(ILogger logger, Exception exception, string provider, string location, TimeSpan delay);

    [LoggerMessage(EventId = 5112, EventName = "CorruptDatabaseMovedAside", Level = LogLevel.Error,
        Message = "The snapshot database {Path} (setting {Setting}) is corrupt ({Reason}); it was moved aside to {MovedTo} (its artifact files to blobs.corrupt-…) and a fresh, empty store was created.")]
    public static partial void CorruptMovedAside(ILogger logger, Exception exception, string path, string setting, string reason, string movedTo);
}
