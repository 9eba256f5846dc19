using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TraceProf.Storage;

/// <summary>
/// Opens the SQLite store for <see cref="SnapshotStoreGuard"/>. A corrupt database (SQLite error 11, or 26: not a
/// database) is moved aside to <c>snapshots.db.corrupt-&lt;UTC timestamp&gt;</c> (with its <c>-wal</c>/<c>-shm</c>)
/// and its <c>blobs</c> folder to <c>blobs.corrupt-&lt;UTC timestamp&gt;</c>, and a fresh store is created. Any
/// other failure (a read-only or full disk, no permission) is not retried: it does not change by itself.
/// </summary>
internal sealed class SqliteStoreOpener : SnapshotStoreOpener
{
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    private readonly SnapshotStoreOptions options;
    private readonly TimeProvider time;
    private readonly ILogger<SqliteSnapshotStore>? storeLogger;
    private readonly ILogger logger;
    private readonly string databasePath;

    public SqliteStoreOpener(SnapshotStoreOptions options, string setting, TimeProvider? timeProvider = null, ILogger<SqliteSnapshotStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options;
        this.time = timeProvider ?? TimeProvider.System;
        this.storeLogger = logger;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        this.databasePath = Path.Combine(Path.GetFullPath(options.Path), SqliteSnapshotStore.DatabaseFileName);
        this.Health = new SnapshotStoreHealth("Sqlite", this.databasePath, setting);
    }

    public override SnapshotStoreHealth Health { get; }

    public override bool RetryInBackground => false;

    public override Task<ISnapshotStore> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<ISnapshotStore>(new SqliteSnapshotStore(this.options, this.time, this.storeLogger));
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase && File.Exists(this.databasePath))
        {
            string movedTo = this.MoveAside();
            StorageLog.CorruptMovedAside(this.logger, ex, this.databasePath, this.Health.Setting, this.Describe(ex), movedTo);
            return Task.FromResult<ISnapshotStore>(new SqliteSnapshotStore(this.options, this.time, this.storeLogger));
        }
    }

    /// <remarks>
    /// SQLite's own words for a read-only folder are "unable to open database file" (error 14, it cannot create the
    /// <c>-shm</c> file); a probe write names the actual cause.
    /// </remarks>
    public override string Describe(Exception exception)
    {
        string said = exception.Message.TrimEnd('.') + ".";
        string folder = Path.GetDirectoryName(this.databasePath)!;
        string probe = Path.Combine(folder, ".traceprof-write-probe-" + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return said;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"the folder {folder} cannot be written (read-only store: {ex.Message.TrimEnd('.')}). {said}";
        }
    }

    private string MoveAside()
    {
        string stamp = this.time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string target = $"{this.databasePath}.corrupt-{stamp}";
        for (int n = 2; File.Exists(target); n++)
        {
            target = string.Create(CultureInfo.InvariantCulture, $"{this.databasePath}.corrupt-{stamp}-{n}");
        }

        // The journal files belong to the corrupt database; a fresh one must not replay them. The artifact files go
        // with it: the fresh store's reconcile would delete them as orphans (no row of the new file names them).
        File.Move(this.databasePath, target);
        foreach (string suffix in (ReadOnlySpan<string>)["-wal", "-shm"])
        {
            if (File.Exists(this.databasePath + suffix))
            {
                File.Move(this.databasePath + suffix, target + suffix);
            }
        }

        string blobs = Path.Combine(Path.GetDirectoryName(this.databasePath)!, SqliteSnapshotStore.BlobsFolderName);
        if (Directory.Exists(blobs))
        {
            Directory.Move(blobs, blobs + target[this.databasePath.Length..]);
        }

        return target;
    }
}
