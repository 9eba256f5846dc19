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

    private const string TempSuffix = ".tmp";

    private static readonly TimeSpan OrphanGrace = TimeSpan.FromMinutes(10);
    private const string PprofSuffix = ".pb.gz";
    private const string NettraceSuffix = ".nettrace";

    private const string SelectColumns =
        "id, trace_id, span_id, kind, trigger, status, service_name, host_name, started_at, duration, " +
        "sample_count, profile_bytes, nettrace_bytes, " +
        "(SELECT group_concat(trace_id, ',') FROM snapshot_traces t WHERE t.snapshot_id = snapshots.id), " +
        "service_instance_id";

    private readonly string connectionString;
    private readonly string databasePath;
    private readonly string blobsPath;
    private readonly int maxCount;
    private readonly TimeSpan maxAge;
    private readonly long maxTotalBytes;
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
        Validate(options);

        this.maxCount = options.MaxCount;
        this.maxAge = options.MaxAge;
        this.maxTotalBytes = options.MaxTotalBytes;
        this.timeProvider = timeProvider ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;

        string root = System.IO.Path.GetFullPath(options.Path);
        this.databasePath = System.IO.Path.Combine(root, DatabaseFileName);
        this.blobsPath = System.IO.Path.Combine(root, BlobsFolderName);
        this.connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = this.databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
        }.ToString();

        Directory.CreateDirectory(this.blobsPath);
        try
        {
            using SqliteConnection connection = this.Open();
            string mode = ExecuteScalarString(connection, "PRAGMA journal_mode = WAL;");
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                StorageLog.NotWal(this.logger, this.databasePath, mode);
            }

            SqliteSnapshotSchema.Migrate(connection, this.databasePath);
            this.Reconcile(connection);
            this.EnforceRetention(connection, keepId: null);
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
    /// together exceed <see cref="SnapshotStoreOptions.MaxTotalBytes"/> is refused with an
    /// <see cref="ArgumentException"/>. A duplicate id is refused with an <see cref="ArgumentException"/>.
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

            long? profileBytes = null;
            long? nettraceBytes = null;
            foreach ((SnapshotArtifact artifact, string path) in artifacts)
            {
                long length = new FileInfo(path).Length; // FileNotFoundException when the caller's file is gone
                if (artifact == SnapshotArtifact.Pprof)
                {
                    profileBytes = length;
                }
                else
                {
                    nettraceBytes = length;
                }
            }

            long total = (profileBytes ?? 0) + (nettraceBytes ?? 0);
            if (total > this.maxTotalBytes)
            {
                throw new SnapshotTooLargeException(
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"The snapshot's files total {total} bytes, more than the store may hold in all (MaxTotalBytes {this.maxTotalBytes})."));
            }

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
                var temporary = new List<(string Temp, string Final)>(artifacts.Count);
                foreach ((SnapshotArtifact artifact, string source) in artifacts)
                {
                    string final = this.ArtifactPath(info.Id, artifact);
                    string temp = final + "." + Guid.NewGuid().ToString("N")[..8] + TempSuffix;
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

                SnapshotInfo stored = info with
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
                    this.EnforceRetention(connection, keepId: stored.Id);
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
                    this.TryDeleteFile(path);
                }

                foreach (string? source in artifacts.Values)
                {
                    if (!string.IsNullOrEmpty(source))
                    {
                        this.TryDeleteFile(source);
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
        command.CommandText = $"SELECT {SelectColumns} FROM snapshots WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadInfo(reader) : null;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The trace id is malformed or the limit is outside 1 to <see cref="SnapshotQuery.MaxLimit"/>.</exception>
    public async Task<IReadOnlyList<SnapshotInfo>> ListAsync(SnapshotQuery query, CancellationToken cancellationToken)
    {
        SnapshotValidation.ValidateQuery(query);
        ObjectDisposedException.ThrowIf(this.disposed, this);

        using SqliteConnection connection = this.Open();
        using SqliteCommand command = connection.CreateCommand();

        // Only constant fragments are concatenated; every value is a parameter.
        var where = new List<string>(3);
        if (query.TraceId is not null)
        {
            where.Add("(trace_id = $trace_id OR id IN (SELECT snapshot_id FROM snapshot_traces WHERE trace_id = $trace_id))");
            command.Parameters.AddWithValue("$trace_id", query.TraceId);
        }

        if (query.Kind is not null)
        {
            where.Add("kind = $kind");
            command.Parameters.AddWithValue("$kind", query.Kind);
        }

        if (query.Since is { } since)
        {
            where.Add("started_at >= $since");
            command.Parameters.AddWithValue("$since", since.UtcTicks);
        }

        command.CommandText =
            $"SELECT {SelectColumns} FROM snapshots" +
            (where.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", where)) +
            " ORDER BY started_at DESC, id DESC LIMIT $limit;";
        command.Parameters.AddWithValue("$limit", query.Limit);

        var results = new List<SnapshotInfo>();
        using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            results.Add(ReadInfo(reader));
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
            return new FileStream(this.ArtifactPath(id, artifact), new FileStreamOptions
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

    private static void Validate(SnapshotStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            throw new ArgumentException(
                "SnapshotStoreOptions.Path is required: the folder that holds snapshots.db and blobs.", nameof(options));
        }

        SnapshotValidation.ValidateLimits(options);
    }

    private static string Suffix(SnapshotArtifact artifact) => artifact switch
    {
        SnapshotArtifact.Pprof => PprofSuffix,
        SnapshotArtifact.Nettrace => NettraceSuffix,
        _ => throw new ArgumentOutOfRangeException(nameof(artifact), artifact, "Unknown artifact."),
    };

    private static SnapshotInfo ReadInfo(SqliteDataReader reader) => new()
    {
        Id = reader.GetString(0),
        TraceId = reader.GetString(1),
        SpanId = reader.IsDBNull(2) ? null : reader.GetString(2),
        Kind = reader.GetString(3),
        Trigger = reader.GetString(4),
        Status = reader.GetString(5),
        ServiceName = reader.GetString(6),
        HostName = reader.GetString(7),
        StartedAt = new DateTimeOffset(reader.GetInt64(8), TimeSpan.Zero),
        Duration = TimeSpan.FromTicks(reader.GetInt64(9)),
        SampleCount = reader.GetInt64(10),
        ProfileBytes = reader.IsDBNull(11) ? 0 : reader.GetInt64(11),
        NettraceBytes = reader.IsDBNull(12) ? 0 : reader.GetInt64(12),
        ContainedTraceIds = reader.IsDBNull(13) ? [] : reader.GetString(13).Split(','),
        ServiceInstanceId = reader.IsDBNull(14) ? null : reader.GetString(14),
    };

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

    private static object DbValue(long? value) => value is { } v ? v : DBNull.Value;

    private string ArtifactPath(string id, SnapshotArtifact artifact) =>
        System.IO.Path.Combine(this.blobsPath, id + Suffix(artifact));

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
            command.CommandText =
                """
                INSERT INTO snapshots (id, trace_id, span_id, kind, trigger, status, service_name, host_name,
                    started_at, duration, sample_count, profile_bytes, nettrace_bytes, stored_at, service_instance_id)
                VALUES ($id, $trace_id, $span_id, $kind, $trigger, $status, $service_name, $host_name,
                    $started_at, $duration, $sample_count, $profile_bytes, $nettrace_bytes, $stored_at, $service_instance_id);
                """;
            command.Parameters.AddWithValue("$id", info.Id);
            command.Parameters.AddWithValue("$trace_id", info.TraceId);
            command.Parameters.AddWithValue("$span_id", (object?)info.SpanId ?? DBNull.Value);
            command.Parameters.AddWithValue("$kind", info.Kind);
            command.Parameters.AddWithValue("$trigger", info.Trigger);
            command.Parameters.AddWithValue("$status", info.Status);
            command.Parameters.AddWithValue("$service_name", info.ServiceName);
            command.Parameters.AddWithValue("$host_name", info.HostName);
            command.Parameters.AddWithValue("$started_at", info.StartedAt.UtcTicks);
            command.Parameters.AddWithValue("$duration", info.Duration.Ticks);
            command.Parameters.AddWithValue("$sample_count", info.SampleCount);
            command.Parameters.AddWithValue("$profile_bytes", DbValue(profileBytes));
            command.Parameters.AddWithValue("$nettrace_bytes", DbValue(nettraceBytes));
            command.Parameters.AddWithValue("$stored_at", this.timeProvider.GetUtcNow().UtcTicks);
            command.Parameters.AddWithValue("$service_instance_id", (object?)info.ServiceInstanceId ?? DBNull.Value);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var traceId in info.ContainedTraceIds.Distinct(StringComparer.Ordinal))
        {
            using SqliteCommand command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO snapshot_traces (trace_id, snapshot_id) VALUES ($trace_id, $id);";
            command.Parameters.AddWithValue("$trace_id", traceId);
            command.Parameters.AddWithValue("$id", info.Id);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // Not cancellable: once the commit starts, the snapshot is stored and the files must stay.
        transaction.Commit();
    }

    /// <summary>Deletes rows and files beyond the count, age and byte limits, oldest first.</summary>
    private void EnforceRetention(SqliteConnection connection, string? keepId)
    {
        var victims = new List<string>();
        using (SqliteCommand command = connection.CreateCommand())
        {
            // One pass, newest first: the row's position and the bytes of it plus everything newer decide.
            command.CommandText =
                """
                SELECT id FROM (
                    SELECT id, stored_at,
                        ROW_NUMBER() OVER newest AS position,
                        SUM(COALESCE(profile_bytes, 0) + COALESCE(nettrace_bytes, 0)) OVER newest AS running_bytes
                    FROM snapshots
                    WINDOW newest AS (ORDER BY stored_at DESC, id DESC ROWS UNBOUNDED PRECEDING))
                WHERE ($keep IS NULL OR id <> $keep)
                  AND (position > $max_count OR running_bytes > $max_bytes OR stored_at < $cutoff);
                """;
            command.Parameters.AddWithValue("$keep", (object?)keepId ?? DBNull.Value);
            command.Parameters.AddWithValue("$max_count", this.maxCount);
            command.Parameters.AddWithValue("$max_bytes", this.maxTotalBytes);
            command.Parameters.AddWithValue("$cutoff", (this.timeProvider.GetUtcNow() - this.maxAge).UtcTicks);
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                victims.Add(reader.GetString(0));
            }
        }

        if (victims.Count == 0)
        {
            return;
        }

        DeleteRows(connection, victims);

        // Rows go first: a file left behind by a failed delete is an orphan the next open removes, whereas a
        // row without its file would be listed but not downloadable.
        foreach (string id in victims)
        {
            this.TryDeleteFile(this.ArtifactPath(id, SnapshotArtifact.Pprof));
            this.TryDeleteFile(this.ArtifactPath(id, SnapshotArtifact.Nettrace));
        }

        StorageLog.Expired(this.logger, victims.Count);
    }

    private static void DeleteRows(SqliteConnection connection, List<string> ids)
    {
        using SqliteTransaction transaction = connection.BeginTransaction();
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM snapshots WHERE id = $id;";
            SqliteParameter parameter = command.Parameters.Add("$id", SqliteType.Text);
            foreach (string id in ids)
            {
                parameter.Value = id;
                command.ExecuteNonQuery();
            }
        }

        transaction.Commit();
    }

    /// <summary>Makes rows and files agree after a crash or an operator's deletion. Runs only on open.</summary>
    private void Reconcile(SqliteConnection connection)
    {
        var rows = new Dictionary<string, (bool Profile, bool Nettrace)>(StringComparer.Ordinal);
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText =
                "SELECT id, profile_bytes IS NOT NULL, nettrace_bytes IS NOT NULL FROM snapshots;";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                rows[reader.GetString(0)] = (reader.GetBoolean(1), reader.GetBoolean(2));
            }
        }

        var present = new HashSet<(string Id, SnapshotArtifact Artifact)>();
        int orphans = 0;

        // Several processes may share one folder (services on one machine, one store): a file written in the
        // last minutes may be another process's add in flight, so only older leftovers count as orphans.
        DateTime recent = this.timeProvider.GetUtcNow().UtcDateTime - OrphanGrace;
        foreach (string file in Directory.EnumerateFiles(this.blobsPath))
        {
            string name = System.IO.Path.GetFileName(file);
            bool isRecent = File.GetLastWriteTimeUtc(file) > recent;
            if (name.EndsWith(TempSuffix, StringComparison.Ordinal))
            {
                if (isRecent)
                {
                    continue;
                }

                orphans += this.TryDeleteFile(file) ? 1 : 0;
                continue;
            }

            if (!TryParseBlobName(name, out string? id, out SnapshotArtifact artifact))
            {
                continue; // not ours; leave it alone
            }

            bool wanted = rows.TryGetValue(id, out (bool Profile, bool Nettrace) has) &&
                (artifact == SnapshotArtifact.Pprof ? has.Profile : has.Nettrace);
            if (wanted)
            {
                present.Add((id, artifact));
            }
            else if (!isRecent)
            {
                orphans += this.TryDeleteFile(file) ? 1 : 0;
            }
        }

        if (orphans > 0)
        {
            StorageLog.OrphansDeleted(this.logger, orphans);
        }

        // A row keeps the artifacts whose files exist; a row left with none is deleted.
        var emptied = new List<string>();
        var lostProfile = new List<string>();
        var lostNettrace = new List<string>();
        int missing = 0;
        foreach ((string id, (bool profile, bool nettrace)) in rows)
        {
            bool keepProfile = profile && present.Contains((id, SnapshotArtifact.Pprof));
            bool keepNettrace = nettrace && present.Contains((id, SnapshotArtifact.Nettrace));
            missing += (profile && !keepProfile ? 1 : 0) + (nettrace && !keepNettrace ? 1 : 0);
            if (!keepProfile && !keepNettrace)
            {
                emptied.Add(id);
                continue;
            }

            if (profile && !keepProfile)
            {
                lostProfile.Add(id);
            }

            if (nettrace && !keepNettrace)
            {
                lostNettrace.Add(id);
            }
        }

        if (emptied.Count > 0)
        {
            DeleteRows(connection, emptied);
            foreach (string id in emptied)
            {
                this.TryDeleteFile(this.ArtifactPath(id, SnapshotArtifact.Pprof));
                this.TryDeleteFile(this.ArtifactPath(id, SnapshotArtifact.Nettrace));
            }
        }

        if (lostProfile.Count > 0 || lostNettrace.Count > 0)
        {
            using SqliteTransaction transaction = connection.BeginTransaction();
            ClearColumn(connection, transaction, "UPDATE snapshots SET profile_bytes = NULL WHERE id = $id;", lostProfile);
            ClearColumn(connection, transaction, "UPDATE snapshots SET nettrace_bytes = NULL WHERE id = $id;", lostNettrace);
            transaction.Commit();
        }

        if (missing > 0)
        {
            StorageLog.MissingArtifacts(this.logger, missing);
        }

        static void ClearColumn(SqliteConnection connection, SqliteTransaction transaction, string sql, List<string> ids)
        {
            using SqliteCommand command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            SqliteParameter parameter = command.Parameters.Add("$id", SqliteType.Text);
            foreach (string id in ids)
            {
                parameter.Value = id;
                command.ExecuteNonQuery();
            }
        }
    }

    private static bool TryParseBlobName(
        string name,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? id,
        out SnapshotArtifact artifact)
    {
        foreach (SnapshotArtifact candidate in (ReadOnlySpan<SnapshotArtifact>)[SnapshotArtifact.Pprof, SnapshotArtifact.Nettrace])
        {
            string suffix = Suffix(candidate);
            if (name.Length == SnapshotIds.Length + suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal))
            {
                string prefix = name[..SnapshotIds.Length];
                if (SnapshotIds.IsValid(prefix))
                {
                    id = prefix;
                    artifact = candidate;
                    return true;
                }
            }
        }

        id = null;
        artifact = default;
        return false;
    }

    private bool TryDeleteFile(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            StorageLog.FileDeleteFailed(this.logger, ex, path);
            return false;
        }
    }

    private void ReleaseDatabaseFiles()
    {
        // Pooled connections keep snapshots.db (and its -wal/-shm files) open after Dispose; clearing the pool
        // closes them, and the last close checkpoints the WAL.
        using var connection = new SqliteConnection(this.connectionString);
        SqliteConnection.ClearPool(connection);
    }
}
