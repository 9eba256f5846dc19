using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TraceProf.Storage;

/// <summary>
/// A zero-set-up <see cref="ISnapshotStore"/> on local disk: metadata in <c>&lt;Path&gt;/snapshots.db</c>
/// (SQLite, WAL) and artifacts in <c>&lt;Path&gt;/blobs/&lt;id&gt;.pb.gz</c> and <c>&lt;id&gt;.nettrace</c>.
/// </summary>
/// <remarks>
/// <para>
/// Writes are serialized inside the instance (and by SQLite across processes); reads run concurrently.
/// Opening a store deletes the files in <c>blobs</c> that no row refers to and that are older than ten minutes
/// (left by a crash between moving a file and committing its row; younger ones may be another process's add
/// in flight, as several services on one machine may share a folder), forgets artifacts whose files have
/// vanished (a row that is left with no artifact is deleted), then applies retention. Retention runs again
/// after every add.
/// </para>
/// <para>
/// The constructor opens the database synchronously, so configuration errors surface at start-up.
/// </para>
/// </remarks>
public sealed class SqliteSnapshotStore : ISnapshotStore, IDisposable
{
    /// <summary>The name of the metadata database inside <see cref="SnapshotStoreOptions.Path"/>.</summary>
    public const string DatabaseFileName = "snapshots.db";

    /// <summary>The name of the artifact folder inside <see cref="SnapshotStoreOptions.Path"/>.</summary>
    public const string BlobsFolderName = "blobs";

    private readonly string connectionString;
    private readonly string databasePath;
    private readonly SnapshotBlobs blobs;
    private readonly long maxTotalBytes;
    private readonly SqliteRetention retention;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;

    // Never disposed on purpose: an AddAsync that is still waiting when Dispose runs must be able to take
    // the lock, see the store is disposed, and clean up its files. SemaphoreSlim holds no OS handle unless
    // AvailableWaitHandle is used, which it is not.
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private volatile bool disposed;

    /// <summary>Opens (or creates) the store in <see cref="SnapshotStoreOptions.Path"/> and applies retention.</summary>
    /// <param name="options">Folder and retention limits; the values are copied.</param>
    /// <param name="timeProvider">The clock for retention and for the stored-at time. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Receives clean-up and retention messages. Default: none.</param>
    /// <exception cref="ArgumentException">An option is missing or out of its documented range.</exception>
    /// <exception cref="InvalidOperationException">The database was written by a newer schema version.</exception>
    public SqliteSnapshotStore(
        SnapshotStoreOptions options,
        TimeProvider? timeProvider = null,
        ILogger<SqliteSnapshotStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        SnapshotValidation.ValidatePathAndLimits(options);

        this.maxTotalBytes = options.MaxTotalBytes;
        this.timeProvider = timeProvider ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;

        string root = System.IO.Path.GetFullPath(options.Path);
        this.databasePath = System.IO.Path.Combine(root, DatabaseFileName);
        this.blobs = new SnapshotBlobs(System.IO.Path.Combine(root, BlobsFolderName), this.logger);
        this.retention = new SqliteRetention(
            new SnapshotStoreOptions { Path = root, MaxCount = options.MaxCount, MaxAge = options.MaxAge, MaxTotalBytes = options.MaxTotalBytes },
            this.blobs,
            options.CaptureTempPath is { } temp ? new CaptureTempFolder(System.IO.Path.GetFullPath(temp), this.logger) : null, this.timeProvider, this.logger);
        this.connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = this.databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
        }.ToString();

        Directory.CreateDirectory(this.blobs.Folder);
        try
        {
            using SqliteConnection connection = this.Open();
            string mode = ExecuteScalarString(connection, "PRAGMA journal_mode = WAL;");
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                StorageLog.NotWal(this.logger, this.databasePath, mode);
            }

            SqliteSnapshotSchema.Migrate(connection, this.databasePath);
            SqliteReconciler.Run(connection, this.blobs, this.timeProvider.GetUtcNow(), this.logger);
            this.retention.Temp?.Sweep(this.timeProvider.GetUtcNow());
            this.retention.Enforce(connection, keepId: null);
            long count = Convert.ToInt64(
                ExecuteScalarString(connection, "SELECT COUNT(*) FROM snapshots;"), CultureInfo.InvariantCulture);
            StorageLog.Opened(this.logger, root, count, SqliteSnapshotSchema.CurrentVersion);
        }
        catch
        {
            this.ReleaseDatabaseFiles();
            throw;
        }
    }

    /// <summary>Runs just before the row is inserted, after the files are in place. Tests inject failures here.</summary>
    internal Func<CancellationToken, Task>? BeforeInsertForTesting { get; set; }

    /// <inheritdoc />
    /// <remarks>
    /// The files belong to the store from the moment of the call: on any failure, including invalid
    /// arguments and cancellation, they are deleted and the exception propagates. A snapshot whose files
    /// together exceed <see cref="SnapshotStoreOptions.MaxTotalBytes"/> is stored without its nettrace when the
    /// profile alone fits (<see cref="SnapshotInfo.NettraceOmitted"/> says so), and refused with a
    /// <see cref="SnapshotTooLargeException"/> otherwise. A duplicate id is refused with an <see cref="ArgumentException"/>.
    /// </remarks>
    public async Task<SnapshotInfo> AddAsync(
        SnapshotInfo info,
        IReadOnlyDictionary<SnapshotArtifact, string> artifacts,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(artifacts);

        // Paths this call created in blobs (temporary, then final names); deleted unless the row commits.
        var created = new List<string>(artifacts.Count);
        bool committed = false;
        try
        {
            ArgumentNullException.ThrowIfNull(info);
            SnapshotValidation.ValidateInfo(info);
            SnapshotValidation.ValidateArtifacts(artifacts);
            ObjectDisposedException.ThrowIf(this.disposed, this);
            cancellationToken.ThrowIfCancellationRequested();

            FittedSnapshot fitted = SnapshotBudget.Fit(info, artifacts, this.maxTotalBytes);
            if (fitted.LeftOutPath is { } leftOut)
            {
                this.blobs.TryDelete(leftOut);
            }

            long? profileBytes = fitted.ProfileBytes;
            long? nettraceBytes = fitted.NettraceBytes;
            long total = (profileBytes ?? 0) + (nettraceBytes ?? 0);

            await this.writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                ObjectDisposedException.ThrowIf(this.disposed, this);
                using SqliteConnection connection = this.Open();
                if (await ExistsAsync(connection, info.Id, cancellationToken).ConfigureAwait(false))
                {
                    throw new ArgumentException($"A snapshot with id '{info.Id}' already exists.", nameof(info));
                }

                // Move each file next to its final name first (a move across volumes is a copy), then rename:
                // a final name never refers to a half-copied file, and a crash leaves only *.tmp files that
                // the next open deletes.
                var temporary = new List<(string Temp, string Final)>(fitted.Artifacts.Count);
                foreach ((SnapshotArtifact artifact, string source) in fitted.Artifacts)
                {
                    string final = this.blobs.PathOf(info.Id, artifact);
                    string temp = SnapshotBlobs.TempNameFor(final);
                    created.Add(temp);
                    File.Move(source, temp);
                    temporary.Add((temp, final));
                    cancellationToken.ThrowIfCancellationRequested();
                }

                foreach ((string temp, string final) in temporary)
                {
                    // overwrite: false, and recorded only once renamed: a failed rename must not delete a file
                    // this call did not create.
                    File.Move(temp, final, overwrite: false);
                    created.Add(final);
                }

                if (this.BeforeInsertForTesting is { } hook)
                {
                    await hook(cancellationToken).ConfigureAwait(false);
                }

                SnapshotInfo stored = fitted.Info with
                {
                    ProfileBytes = profileBytes ?? 0,
                    NettraceBytes = nettraceBytes ?? 0,
                };
                await this.InsertAsync(connection, stored, profileBytes, nettraceBytes, cancellationToken)
                    .ConfigureAwait(false);
                committed = true;
                StorageLog.Stored(this.logger, stored.Id, stored.TraceId, total);

                try
                {
                    this.retention.Enforce(connection, keepId: stored.Id);
                }
                catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
                {
                    // The snapshot is stored; a retention failure must not make the caller think otherwise.
                    StorageLog.RetentionFailed(this.logger, ex, stored.Id);
                }

                return stored;
            }
            finally
            {
                this.writeLock.Release();
            }
        }
        finally
        {
            if (!committed)
            {
                foreach (string path in created)
                {
                    this.blobs.TryDelete(path);
                }

                foreach (string? source in artifacts.Values)
                {
                    if (!string.IsNullOrEmpty(source))
                    {
                        this.blobs.TryDelete(source);
                    }
                }
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="id"/> is not 32 lower-case hex digits.</exception>
    public async Task<SnapshotInfo?> GetAsync(string id, CancellationToken cancellationToken)
    {
        SnapshotIds.ThrowIfInvalid(id, nameof(id));
        ObjectDisposedException.ThrowIf(this.disposed, this);

        using SqliteConnection connection = this.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = SnapshotSql.SelectById(SnapshotSqlDialect.Sqlite);
        command.Parameters.AddWithValue("$id", id);
        using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? SnapshotSql.ReadInfo(reader) : null;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The trace id is malformed or the limit is outside 1 to <see cref="SnapshotQuery.MaxLimit"/>.</exception>
    public async Task<IReadOnlyList<SnapshotInfo>> ListAsync(SnapshotQuery query, CancellationToken cancellationToken)
    {
        SnapshotValidation.ValidateQuery(query);
        ObjectDisposedException.ThrowIf(this.disposed, this);

        using SqliteConnection connection = this.Open();
        using SqliteCommand command = connection.CreateCommand();

        SnapshotSql.BuildList(command, SnapshotSqlDialect.Sqlite, query);

        var results = new List<SnapshotInfo>();
        using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            results.Add(SnapshotSql.ReadInfo(reader));
        }

        return results;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The stream is opened with <see cref="FileShare.Delete"/>, so retention may delete the file while it is
    /// being read; the reader keeps the contents it opened.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not 32 lower-case hex digits.</exception>
    public async Task<Stream?> OpenArtifactAsync(string id, SnapshotArtifact artifact, CancellationToken cancellationToken)
    {
        SnapshotIds.ThrowIfInvalid(id, nameof(id));
        string column = artifact switch
        {
            SnapshotArtifact.Pprof => "profile_bytes",
            SnapshotArtifact.Nettrace => "nettrace_bytes",
            _ => throw new ArgumentOutOfRangeException(nameof(artifact), artifact, "Unknown artifact."),
        };
        ObjectDisposedException.ThrowIf(this.disposed, this);

        using (SqliteConnection connection = this.Open())
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT 1 FROM snapshots WHERE id = $id AND {column} IS NOT NULL;";
            command.Parameters.AddWithValue("$id", id);
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                return null;
            }
        }

        try
        {
            return new FileStream(this.blobs.PathOf(id, artifact), new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            });
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // Retention (or an operator) deleted it between the lookup and the open.
            return null;
        }
    }

    /// <summary>Stops accepting calls and closes the pooled database connections. Waits for a running add.</summary>
    public void Dispose()
    {
        if (this.disposed)
        {
            return;
        }

        this.writeLock.Wait();
        try
        {
            this.disposed = true;
            this.ReleaseDatabaseFiles();
        }
        finally
        {
            this.writeLock.Release();
        }
    }

    private static string ExecuteScalarString(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? string.Empty;
    }

    private static async Task<bool> ExistsAsync(SqliteConnection connection, string id, CancellationToken cancellationToken)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM snapshots WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(this.connectionString);
        try
        {
            connection.Open();
            using SqliteCommand command = connection.CreateCommand();

            // Per-connection settings (pooled connections keep them, setting again is cheap). synchronous=NORMAL
            // is safe from corruption in WAL mode; a power cut may lose the last rows, whose files the next
            // open then deletes as orphans.
            command.CommandText = "PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;";
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private async Task InsertAsync(
        SqliteConnection connection,
        SnapshotInfo info,
        long? profileBytes,
        long? nettraceBytes,
        CancellationToken cancellationToken)
    {
        using SqliteTransaction transaction = connection.BeginTransaction();
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            SnapshotSql.BuildInsert(command, SnapshotSqlDialect.Sqlite, info, profileBytes, nettraceBytes, this.timeProvider.GetUtcNow());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var traceId in info.ContainedTraceIds.Distinct(StringComparer.Ordinal))
        {
            using SqliteCommand command = connection.CreateCommand();
            command.Transaction = transaction;
            SnapshotSql.BuildInsertTrace(command, SnapshotSqlDialect.Sqlite, info.Id, traceId);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // Not cancellable: once the commit starts, the snapshot is stored and the files must stay.
        transaction.Commit();
    }

    private void ReleaseDatabaseFiles()
    {
        // Pooled connections keep snapshots.db (and its -wal/-shm files) open after Dispose; clearing the pool
        // closes them, and the last close checkpoints the WAL.
        using var connection = new SqliteConnection(this.connectionString);
        SqliteConnection.ClearPool(connection);
    }
}
