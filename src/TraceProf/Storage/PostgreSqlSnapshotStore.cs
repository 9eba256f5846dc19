using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace TraceProf.Storage;

/// <summary>
/// An <see cref="ISnapshotStore"/> on a shared PostgreSQL database, so that every service of a system writes one
/// index and any service can serve any snapshot: metadata rows and the artifact bytes (<c>bytea</c>) live in
/// tables prefixed <c>traceprof_</c>, created or migrated on open (versioned, under an advisory lock so that
/// several services may start at once). Retention (count, age, bytes) works as in <see cref="SqliteSnapshotStore"/>.
/// </summary>
public sealed class PostgreSqlSnapshotStore : ISnapshotStore, IDisposable
{
    // Serializes migrations across every process that opens the same database.
    private const long MigrationLockKey = 0x5452_4143_4550_5246; // "TRACEPRF"

    private const string SelectColumns =
        "s.id, s.trace_id, s.span_id, s.kind, s.trigger, s.status, s.service_name, s.host_name, s.started_at, s.duration, " +
        "s.sample_count, s.profile_bytes, s.nettrace_bytes, " +
        "(SELECT string_agg(t.trace_id, ',') FROM traceprof_snapshot_traces t WHERE t.snapshot_id = s.id), s.service_instance_id";

    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE traceprof_snapshots (
            id                  text   NOT NULL PRIMARY KEY,
            trace_id            text   NOT NULL,
            span_id             text   NULL,
            kind                text   NOT NULL,
            trigger             text   NOT NULL,
            status              text   NOT NULL,
            service_name        text   NOT NULL,
            service_instance_id text   NULL,
            host_name           text   NOT NULL,
            started_at          bigint NOT NULL,
            duration            bigint NOT NULL,
            sample_count        bigint NOT NULL,
            profile_bytes       bigint NULL,
            nettrace_bytes      bigint NULL,
            stored_at           bigint NOT NULL
        );
        CREATE INDEX ix_traceprof_snapshots_trace_id ON traceprof_snapshots (trace_id, started_at);
        CREATE INDEX ix_traceprof_snapshots_started_at ON traceprof_snapshots (started_at);
        CREATE INDEX ix_traceprof_snapshots_stored_at ON traceprof_snapshots (stored_at);
        CREATE TABLE traceprof_snapshot_traces (
            trace_id    text NOT NULL,
            snapshot_id text NOT NULL REFERENCES traceprof_snapshots (id) ON DELETE CASCADE,
            PRIMARY KEY (trace_id, snapshot_id)
        );
        CREATE INDEX ix_traceprof_snapshot_traces_snapshot ON traceprof_snapshot_traces (snapshot_id);
        CREATE TABLE traceprof_artifacts (
            snapshot_id text     NOT NULL REFERENCES traceprof_snapshots (id) ON DELETE CASCADE,
            artifact    smallint NOT NULL,
            content     bytea    NOT NULL,
            PRIMARY KEY (snapshot_id, artifact)
        );
        """,
    ];

    private readonly NpgsqlDataSource _dataSource;
    private readonly int _maxCount;
    private readonly TimeSpan _maxAge;
    private readonly long _maxTotalBytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Connects, creates or migrates the schema, and applies retention.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="options">Retention limits (<see cref="SnapshotStoreOptions.Path"/> is not used).</param>
    /// <param name="timeProvider">The clock for retention. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Receives retention messages.</param>
    /// <exception cref="ArgumentException">The connection string or a limit is invalid.</exception>
    /// <exception cref="InvalidOperationException">The database cannot be reached, or has a newer schema.</exception>
    public PostgreSqlSnapshotStore(string connectionString, SnapshotStoreOptions options, TimeProvider? timeProvider = null, ILogger<PostgreSqlSnapshotStore>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(options);
        SnapshotValidation.ValidateLimits(options);
        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"The PostgreSQL connection string is not valid: {ex.Message}", nameof(connectionString), ex);
        }

        _dataSource = NpgsqlDataSource.Create(parsed);
        _maxCount = options.MaxCount;
        _maxAge = options.MaxAge;
        _maxTotalBytes = options.MaxTotalBytes;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        try
        {
            Migrate();
            ApplyRetentionAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (NpgsqlException ex)
        {
            _dataSource.Dispose();
            throw new InvalidOperationException(
                $"Cannot open the PostgreSQL snapshot store at {parsed.Host}:{parsed.Port}/{parsed.Database}: {ex.Message}", ex);
        }
    }

    /// <summary>The schema version this code writes.</summary>
    public static int CurrentVersion => Migrations.Length;

    /// <inheritdoc />
    public async Task<SnapshotInfo> AddAsync(SnapshotInfo info, IReadOnlyDictionary<SnapshotArtifact, string> artifacts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        try
        {
            ArgumentNullException.ThrowIfNull(info);
            SnapshotValidation.ValidateInfo(info);
            SnapshotValidation.ValidateArtifacts(artifacts);
            long? profileBytes = artifacts.TryGetValue(SnapshotArtifact.Pprof, out var pprof) ? new FileInfo(pprof).Length : null;
            long? nettraceBytes = artifacts.TryGetValue(SnapshotArtifact.Nettrace, out var nettrace) ? new FileInfo(nettrace).Length : null;
            var total = (profileBytes ?? 0) + (nettraceBytes ?? 0);
            if (total > _maxTotalBytes)
            {
                throw new SnapshotTooLargeException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"The snapshot's files total {total} bytes, more than the store may hold in all (MaxTotalBytes {_maxTotalBytes})."));
            }

            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var insert = new NpgsqlCommand(
                """
                INSERT INTO traceprof_snapshots (id, trace_id, span_id, kind, trigger, status, service_name, service_instance_id,
                    host_name, started_at, duration, sample_count, profile_bytes, nettrace_bytes, stored_at)
                VALUES (@id, @trace_id, @span_id, @kind, @trigger, @status, @service_name, @service_instance_id,
                    @host_name, @started_at, @duration, @sample_count, @profile_bytes, @nettrace_bytes, @stored_at);
                """,
                connection,
                transaction))
            {
                insert.Parameters.AddWithValue("id", info.Id);
                insert.Parameters.AddWithValue("trace_id", info.TraceId);
                insert.Parameters.AddWithValue("span_id", (object?)info.SpanId ?? DBNull.Value);
                insert.Parameters.AddWithValue("kind", info.Kind);
                insert.Parameters.AddWithValue("trigger", info.Trigger);
                insert.Parameters.AddWithValue("status", info.Status);
                insert.Parameters.AddWithValue("service_name", info.ServiceName);
                insert.Parameters.AddWithValue("service_instance_id", (object?)info.ServiceInstanceId ?? DBNull.Value);
                insert.Parameters.AddWithValue("host_name", info.HostName);
                insert.Parameters.AddWithValue("started_at", info.StartedAt.UtcTicks);
                insert.Parameters.AddWithValue("duration", info.Duration.Ticks);
                insert.Parameters.AddWithValue("sample_count", info.SampleCount);
                insert.Parameters.AddWithValue("profile_bytes", (object?)profileBytes ?? DBNull.Value);
                insert.Parameters.AddWithValue("nettrace_bytes", (object?)nettraceBytes ?? DBNull.Value);
                insert.Parameters.AddWithValue("stored_at", _time.GetUtcNow().UtcTicks);
                try
                {
                    await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
                {
                    throw new ArgumentException($"A snapshot with id '{info.Id}' already exists.", nameof(info), ex);
                }
            }

            foreach (var traceId in info.ContainedTraceIds.Distinct(StringComparer.Ordinal))
            {
                await using var trace = new NpgsqlCommand("INSERT INTO traceprof_snapshot_traces (trace_id, snapshot_id) VALUES (@trace_id, @id);", connection, transaction);
                trace.Parameters.AddWithValue("trace_id", traceId);
                trace.Parameters.AddWithValue("id", info.Id);
                await trace.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (var (artifact, path) in artifacts)
            {
                // The file is streamed into the parameter, never held in memory whole.
                var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                await using (file.ConfigureAwait(false))
                {
                    await using var content = new NpgsqlCommand("INSERT INTO traceprof_artifacts (snapshot_id, artifact, content) VALUES (@id, @artifact, @content);", connection, transaction);
                    content.Parameters.AddWithValue("id", info.Id);
                    content.Parameters.AddWithValue("artifact", (short)artifact);
                    content.Parameters.Add(new NpgsqlParameter("content", NpgsqlDbType.Bytea) { Value = file, Size = (int)Math.Min(int.MaxValue, file.Length) });
                    await content.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            var stored = info with { ProfileBytes = profileBytes ?? 0, NettraceBytes = nettraceBytes ?? 0 };
            try
            {
                await ApplyRetentionAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (NpgsqlException ex)
            {
                // The snapshot is stored; retention runs again after the next add.
                StorageLog.RetentionFailed(_logger, ex, info.Id);
            }

            return stored;
        }
        finally
        {
            // The store owns the caller's files from the call on: stored in the database or not, they go.
            foreach (var path in artifacts.Values)
            {
                TryDelete(path);
            }
        }
    }

    /// <inheritdoc />
    public async Task<SnapshotInfo?> GetAsync(string id, CancellationToken cancellationToken)
    {
        SnapshotIds.ThrowIfInvalid(id, nameof(id));
        await using var command = _dataSource.CreateCommand($"SELECT {SelectColumns} FROM traceprof_snapshots s WHERE s.id = @id;");
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadInfo(reader) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SnapshotInfo>> ListAsync(SnapshotQuery query, CancellationToken cancellationToken)
    {
        SnapshotValidation.ValidateQuery(query);

        // Only constant fragments are concatenated; every value is a parameter.
        var where = new List<string>(3);
        await using var command = _dataSource.CreateCommand();
        if (query.TraceId is not null)
        {
            // A UNION of two index lookups; an OR across the two tables makes PostgreSQL scan every row.
            where.Add("s.id IN (SELECT id FROM traceprof_snapshots WHERE trace_id = @trace_id UNION SELECT snapshot_id FROM traceprof_snapshot_traces WHERE trace_id = @trace_id)");
            command.Parameters.AddWithValue("trace_id", query.TraceId);
        }

        if (query.Kind is not null)
        {
            where.Add("s.kind = @kind");
            command.Parameters.AddWithValue("kind", query.Kind);
        }

        if (query.Since is { } since)
        {
            where.Add("s.started_at >= @since");
            command.Parameters.AddWithValue("since", since.UtcTicks);
        }

        command.CommandText =
            $"SELECT {SelectColumns} FROM traceprof_snapshots s" +
            (where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where)) +
            " ORDER BY s.started_at DESC, s.id DESC LIMIT @limit;";
        command.Parameters.AddWithValue("limit", query.Limit);
        var results = new List<SnapshotInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            results.Add(ReadInfo(reader));
        }

        return results;
    }

    /// <inheritdoc />
    public async Task<Stream?> OpenArtifactAsync(string id, SnapshotArtifact artifact, CancellationToken cancellationToken)
    {
        SnapshotIds.ThrowIfInvalid(id, nameof(id));
        await using var command = _dataSource.CreateCommand("SELECT content FROM traceprof_artifacts WHERE snapshot_id = @id AND artifact = @artifact;");
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("artifact", (short)artifact);
        var content = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return content is byte[] bytes ? new MemoryStream(bytes, writable: false) : null;
    }

    /// <inheritdoc />
    public void Dispose() => _dataSource.Dispose();

    private static SnapshotInfo ReadInfo(NpgsqlDataReader reader) => new()
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

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void Migrate()
    {
        using var connection = _dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using (var setup = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key); CREATE TABLE IF NOT EXISTS traceprof_schema (version integer NOT NULL);", connection, transaction))
        {
            setup.Parameters.AddWithValue("key", MigrationLockKey);
            setup.ExecuteNonQuery();
        }

        int version;
        using (var read = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM traceprof_schema;", connection, transaction))
        {
            version = Convert.ToInt32(read.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        if (version > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"The PostgreSQL snapshot store has schema version {version}, but this version of TraceProf knows only up to {CurrentVersion}. Upgrade TraceProf.");
        }

        for (var next = version; next < CurrentVersion; next++)
        {
            using var step = new NpgsqlCommand(Migrations[next] + "\nDELETE FROM traceprof_schema; INSERT INTO traceprof_schema (version) VALUES (@version);", connection, transaction);
            step.Parameters.AddWithValue("version", next + 1);
            step.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private async Task ApplyRetentionAsync(CancellationToken cancellationToken)
    {
        // Newest first: keep rows while both the running count and the running bytes fit; drop expired ones.
        await using var command = _dataSource.CreateCommand(
            """
            DELETE FROM traceprof_snapshots WHERE id IN (
                SELECT id FROM (
                    SELECT id, stored_at,
                        ROW_NUMBER() OVER w AS position,
                        SUM(COALESCE(profile_bytes, 0) + COALESCE(nettrace_bytes, 0)) OVER w AS running_bytes
                    FROM traceprof_snapshots
                    WINDOW w AS (ORDER BY stored_at DESC, id DESC ROWS UNBOUNDED PRECEDING)
                ) ranked
                WHERE position > @max_count OR running_bytes > @max_bytes OR stored_at < @cutoff);
            """);
        command.Parameters.AddWithValue("max_count", (long)_maxCount);
        command.Parameters.AddWithValue("max_bytes", _maxTotalBytes);
        command.Parameters.AddWithValue("cutoff", (_time.GetUtcNow() - _maxAge).UtcTicks);
        var deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        if (deleted > 0)
        {
            StorageLog.Expired(_logger, deleted);
        }
    }
}
