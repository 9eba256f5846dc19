using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace TraceProf.Storage;

/// <summary>
/// Makes rows and files of the SQLite store agree after a crash or an operator's deletion. Runs only on open.
/// </summary>
internal static class SqliteReconciler
{
    /// <summary>How old a leftover file must be before it counts as an orphan.</summary>
    public static readonly TimeSpan OrphanGrace = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Deletes files in the blob folder that no row refers to and temporary files, both older than
    /// <see cref="OrphanGrace"/>; forgets artifacts whose files have vanished, and deletes a row left with none.
    /// </summary>
    public static void Run(SqliteConnection connection, SnapshotBlobs blobs, DateTimeOffset now, ILogger logger)
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
        DateTime recent = now.UtcDateTime - OrphanGrace;
        foreach (string file in Directory.EnumerateFiles(blobs.Folder))
        {
            string name = Path.GetFileName(file);
            bool isRecent = File.GetLastWriteTimeUtc(file) > recent;
            if (name.EndsWith(SnapshotBlobs.TempSuffix, StringComparison.Ordinal))
            {
                if (isRecent)
                {
                    continue;
                }

                orphans += blobs.TryDelete(file) ? 1 : 0;
                continue;
            }

            if (!SnapshotBlobs.TryParseName(name, out string? id, out SnapshotArtifact artifact))
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
                orphans += blobs.TryDelete(file) ? 1 : 0;
            }
        }

        if (orphans > 0)
        {
            StorageLog.OrphansDeleted(logger, orphans);
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
            SqliteRetention.DeleteRows(connection, emptied);
            foreach (string id in emptied)
            {
                blobs.DeleteArtifacts(id);
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
            StorageLog.MissingArtifacts(logger, missing);
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
}
