using System.Globalization;
using Npgsql;

namespace TraceProf.Storage;

/// <summary>
/// The schema of the PostgreSQL store, versioned in <c>traceprof_schema</c>. Migration <c>i</c> takes the database
/// from version <c>i</c> to <c>i + 1</c>; add new steps at the end, never edit a shipped one.
/// </summary>
internal static class PostgreSqlSnapshotSchema
{
    // Serializes migrations across every process that opens the same database.
    private const long MigrationLockKey = 0x5452_4143_4550_5246; // "TRACEPRF"

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

        // v2: why the raw trace was left out (it did not fit in the byte limit; the profile was kept).
        """
        ALTER TABLE traceprof_snapshots ADD COLUMN nettrace_omitted text NULL;
        """,

        // v3: snapshots by trigger prefix (?trigger=status:5): text_pattern_ops serves a left-anchored LIKE in any collation.
        """
        CREATE INDEX ix_traceprof_snapshots_trigger ON traceprof_snapshots (trigger text_pattern_ops, started_at);
        """,
    ];

    /// <summary>The version this code writes.</summary>
    public static int CurrentVersion => Migrations.Length;

    /// <summary>
    /// Brings the database up to <see cref="CurrentVersion"/> in one transaction, under an advisory lock so that
    /// several services may start at once.
    /// </summary>
    /// <exception cref="InvalidOperationException">The database was written by a newer version of TraceProf.</exception>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var setup = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key); CREATE TABLE IF NOT EXISTS traceprof_schema (version integer NOT NULL);", connection, transaction))
        {
            setup.Parameters.AddWithValue("key", MigrationLockKey);
            await setup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        int version;
        await using (var read = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM traceprof_schema;", connection, transaction))
        {
            version = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        if (version > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"The PostgreSQL snapshot store has schema version {version}, but this version of TraceProf knows only up to {CurrentVersion}. Upgrade TraceProf.");
        }

        for (var next = version; next < CurrentVersion; next++)
        {
            await using var step = new NpgsqlCommand(Migrations[next] + "\nDELETE FROM traceprof_schema; INSERT INTO traceprof_schema (version) VALUES (@version);", connection, transaction);
            step.Parameters.AddWithValue("version", next + 1);
            await step.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
