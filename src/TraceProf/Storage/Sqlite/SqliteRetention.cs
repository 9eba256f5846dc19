using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace TraceProf.Storage;

/// <summary>
/// Retention of the SQLite store: the count, age and byte limits, applied on open and after every add. The byte
/// limit counts the capture temp folder too (files of captures in flight or left by a crash), except the files
/// of the snapshot being stored.
/// </summary>
internal sealed class SqliteRetention(SnapshotStoreOptions options, SnapshotBlobs blobs, CaptureTempFolder? temp, TimeProvider timeProvider, ILogger logger)
{
    /// <summary>Gets the capture temp folder, when the store knows it.</summary>
    public CaptureTempFolder? Temp => temp;

    /// <summary>Deletes rows and files beyond the count, age and byte limits, oldest first.</summary>
    public void Enforce(SqliteConnection connection, string? keepId)
    {
        var victims = new List<string>();
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = SnapshotSql.RetentionVictims(SnapshotSqlDialect.Sqlite, withKeep: keepId is not null) + ";";
            SnapshotSql.AddRetentionParameters(
                command, SnapshotSqlDialect.Sqlite, keepId, options.MaxCount, Math.Max(0, options.MaxTotalBytes - (temp?.Bytes(keepId) ?? 0)), timeProvider.GetUtcNow() - options.MaxAge);
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
            blobs.DeleteArtifacts(id);
        }

        StorageLog.Expired(logger, victims.Count);
    }

    public static void DeleteRows(SqliteConnection connection, List<string> ids)
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
}
