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
    private readonly NpgsqlDataSource _dataSource;
    private readonly int _maxCount;
    private readonly TimeSpan _maxAge;
    private readonly long _maxTotalBytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    private PostgreSqlSnapshotStore(NpgsqlDataSource dataSource, SnapshotStoreOptions options, TimeProvider? timeProvider, ILogger? logger)
    {
        _dataSource = dataSource;
        _maxCount = options.MaxCount;
        _maxAge = options.MaxAge;
        _maxTotalBytes = options.MaxTotalBytes;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Connects, creates or migrates the schema, and applies retention.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="options">Retention limits (<see cref="SnapshotStoreOptions.Path"/> is not used).</param>
    /// <param name="timeProvider">The clock for retention. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Receives retention messages.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>The open store; dispose it.</returns>
    /// <exception cref="ArgumentException">The connection string or a limit is invalid (checked before connecting).</exception>
    /// <exception cref="InvalidOperationException">The database cannot be reached, or has a newer schema.</exception>
    public static async Task<PostgreSqlSnapshotStore> OpenAsync(
        string connectionString,
        SnapshotStoreOptions options,
        TimeProvider? timeProvider = null,
        ILogger<PostgreSqlSnapshotStore>? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        SnapshotValidation.ValidateLimits(options);
        var parsed = ParseConnectionString(connectionString);
        var dataSource = NpgsqlDataSource.Create(parsed);
        var store = new PostgreSqlSnapshotStore(dataSource, options, timeProvider, logger);
        try
        {
            await PostgreSqlSnapshotSchema.MigrateAsync(dataSource, cancellationToken).ConfigureAwait(false);
            await store.ApplyRetentionAsync(cancellationToken).ConfigureAwait(false);

            // The rows are in the database, but captures in progress are written locally first.
            if (options.CaptureTempPath is { } temp)
            {
                new CaptureTempFolder(Path.GetFullPath(temp), store._logger).Sweep(store._time.GetUtcNow());
            }

            return store;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException(
                $"Cannot open the PostgreSQL snapshot store at {parsed.Host}:{parsed.Port}/{parsed.Database}: {ex.Message}", ex);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Where a connection string points, as <c>host:port/database</c> (never its password).</summary>
    /// <exception cref="ArgumentException">The connection string is malformed.</exception>
    internal static string Describe(string connectionString)
    {
        var parsed = ParseConnectionString(connectionString);
        return $"{parsed.Host}:{parsed.Port}/{parsed.Database}";
    }

    /// <summary>Parses a connection string, naming the problem in an <see cref="ArgumentException"/>.</summary>
    internal static NpgsqlConnectionStringBuilder ParseConnectionString(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"The PostgreSQL connection string is not valid: {ex.Message}", nameof(connectionString), ex);
        }
    }

    /// <summary>The schema version this code writes.</summary>
    public static int CurrentVersion => PostgreSqlSnapshotSchema.CurrentVersion;

    /// <inheritdoc />
    public async Task<SnapshotInfo> AddAsync(SnapshotInfo info, IReadOnlyDictionary<SnapshotArtifact, string> artifacts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        try
        {
            ArgumentNullException.ThrowIfNull(info);
            SnapshotValidation.ValidateInfo(info);
            SnapshotValidation.ValidateArtifacts(artifacts);
            var fitted = SnapshotBudget.Fit(info, artifacts, _maxTotalBytes);
            long? profileBytes = fitted.ProfileBytes;
            long? nettraceBytes = fitted.NettraceBytes;

            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var insert = new NpgsqlCommand(null, connection, transaction))
            {
                SnapshotSql.BuildInsert(insert, SnapshotSqlDialect.PostgreSql, fitted.Info, profileBytes, nettraceBytes, _time.GetUtcNow());
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
                await using var trace = new NpgsqlCommand(null, connection, transaction);
                SnapshotSql.BuildInsertTrace(trace, SnapshotSqlDialect.PostgreSql, info.Id, traceId);
                await trace.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (var (artifact, path) in fitted.Artifacts)
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
            var stored = fitted.Info with { ProfileBytes = profileBytes ?? 0, NettraceBytes = nettraceBytes ?? 0 };
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
        await using var command = _dataSource.CreateCommand(SnapshotSql.SelectById(SnapshotSqlDialect.PostgreSql));
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? SnapshotSql.ReadInfo(reader) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SnapshotInfo>> ListAsync(SnapshotQuery query, CancellationToken cancellationToken)
    {
        SnapshotValidation.ValidateQuery(query);

        await using var command = _dataSource.CreateCommand();
        SnapshotSql.BuildList(command, SnapshotSqlDialect.PostgreSql, query);
        var results = new List<SnapshotInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            results.Add(SnapshotSql.ReadInfo(reader));
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

    private async Task ApplyRetentionAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            $"DELETE FROM traceprof_snapshots WHERE id IN ({SnapshotSql.RetentionVictims(SnapshotSqlDialect.PostgreSql, withKeep: false)});");
        SnapshotSql.AddRetentionParameters(command, SnapshotSqlDialect.PostgreSql, keepId: null, _maxCount, _maxTotalBytes, _time.GetUtcNow() - _maxAge);
        var deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        if (deleted > 0)
        {
            StorageLog.Expired(_logger, deleted);
        }
    }
}
