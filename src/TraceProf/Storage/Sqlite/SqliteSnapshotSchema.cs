using Microsoft.Data.Sqlite;

namespace TraceProf.Storage;

/// <summary>
/// The schema of <c>snapshots.db</c>, versioned with <c>PRAGMA user_version</c>. Migration <c>i</c> takes the
/// database from version <c>i</c> to <c>i + 1</c>; add new steps at the end, never edit a shipped one.
/// </summary>
internal static class SqliteSnapshotSchema
{
    // Times are UTC ticks and durations are ticks, so values round-trip exactly and compare as integers.
    // profile_bytes / nettrace_bytes are NULL when the snapshot has no such artifact (a file may be empty).
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE snapshots (
            id             TEXT    NOT NULL PRIMARY KEY,
            trace_id       TEXT    NOT NULL,
            span_id        TEXT    NULL,
            kind           TEXT    NOT NULL,
            trigger        TEXT    NOT NULL,
            status         TEXT    NOT NULL,
            service_name   TEXT    NOT NULL,
            host_name      TEXT    NOT NULL,
            started_at     INTEGER NOT NULL,
            duration       INTEGER NOT NULL,
            sample_count   INTEGER NOT NULL,
            profile_bytes  INTEGER NULL,
            nettrace_bytes INTEGER NULL,
            stored_at      INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX ix_snapshots_trace_id ON snapshots (trace_id, started_at);
        CREATE INDEX ix_snapshots_started_at ON snapshots (started_at);
        CREATE INDEX ix_snapshots_stored_at ON snapshots (stored_at);
        """,

        // v2: the traces a snapshot holds samples of (besides the one it is stored under), so that a trace id
        // finds every capture that was running while its request ran.
        """
        CREATE TABLE snapshot_traces (
            trace_id    TEXT NOT NULL,
            snapshot_id TEXT NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
            PRIMARY KEY (trace_id, snapshot_id)
        ) WITHOUT ROWID;
        CREATE INDEX ix_snapshot_traces_snapshot ON snapshot_traces (snapshot_id);
        """,

        // v3: which instance of the service wrote the snapshot (several share one store).
        """
        ALTER TABLE snapshots ADD COLUMN service_instance_id TEXT NULL;
        """,

        // v4: why the raw trace was left out (it did not fit in the byte limit; the profile was kept).
        """
        ALTER TABLE snapshots ADD COLUMN nettrace_omitted TEXT NULL;
        """,

        // v5: snapshots by trigger prefix (?trigger=status:5), newest first.
        """
        CREATE INDEX ix_snapshots_trigger ON snapshots (trigger, started_at);
        """,
    ];

    /// <summary>The version this code writes.</summary>
    public static int CurrentVersion => Migrations.Length;

    /// <summary>Brings the database up to <see cref="CurrentVersion"/>; each step commits with its version.</summary>
    /// <exception cref="InvalidOperationException">The file was written by a newer version of TraceProf.</exception>
    public static void Migrate(SqliteConnection connection, string databasePath)
    {
        int version = GetVersion(connection);
        if (version > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"'{databasePath}' has schema version {version}, but this version of TraceProf knows only up to " +
                $"{CurrentVersion}. Upgrade TraceProf or point the store at another folder.");
        }

        for (int next = version; next < CurrentVersion; next++)
        {
            using SqliteTransaction transaction = connection.BeginTransaction();
            using (SqliteCommand command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                // PRAGMA takes no parameters; the value is our own integer, never input.
                command.CommandText = Migrations[next] + $"\nPRAGMA user_version = {next + 1};";
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    public static int GetVersion(SqliteConnection connection)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
