using Microsoft.Data.Sqlite;
using TraceProf.Storage;

namespace TraceProf.Tests.Storage;

/// <summary>A temporary store folder plus an "incoming" folder for the files a capture would hand over.</summary>
internal sealed class StoreFolder : IDisposable
{
    private int fileCounter;

    public StoreFolder()
    {
        this.Root = Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        this.Incoming = Path.Combine(this.Root, "incoming");
        this.StorePath = Path.Combine(this.Root, "store");
        Directory.CreateDirectory(this.Incoming);
    }

    public string Root { get; }

    public string Incoming { get; }

    public string StorePath { get; }

    public string Blobs => Path.Combine(this.StorePath, SqliteSnapshotStore.BlobsFolderName);

    public string Database => Path.Combine(this.StorePath, SqliteSnapshotStore.DatabaseFileName);

    public SnapshotStoreOptions Options(int maxCount = 1000, long maxTotalBytes = SnapshotStoreOptions.DefaultMaxTotalBytes, TimeSpan? maxAge = null) => new()
    {
        Path = this.StorePath,
        MaxCount = maxCount,
        MaxTotalBytes = maxTotalBytes,
        MaxAge = maxAge ?? SnapshotStoreOptions.DefaultMaxAge,
    };

    /// <summary>Writes a file of <paramref name="length"/> bytes whose content depends on <paramref name="seed"/>.</summary>
    public string WriteIncoming(int length, byte seed = 1)
    {
        string path = Path.Combine(this.Incoming, $"capture-{Interlocked.Increment(ref this.fileCounter)}.tmp");
        byte[] bytes = new byte[length];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(seed + i);
        }

        File.WriteAllBytes(path, bytes);
        return path;
    }

    public Dictionary<SnapshotArtifact, string> Artifacts(int profileBytes = 100, int nettraceBytes = 300, byte seed = 1)
    {
        var artifacts = new Dictionary<SnapshotArtifact, string>();
        if (profileBytes >= 0)
        {
            artifacts[SnapshotArtifact.Pprof] = this.WriteIncoming(profileBytes, seed);
        }

        if (nettraceBytes >= 0)
        {
            artifacts[SnapshotArtifact.Nettrace] = this.WriteIncoming(nettraceBytes, seed);
        }

        return artifacts;
    }

    public string[] BlobFiles() =>
        Directory.Exists(this.Blobs) ? Directory.GetFiles(this.Blobs).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray() : [];

    public string[] IncomingFiles() => Directory.GetFiles(this.Incoming);

    /// <summary>Runs one SQL statement on the database with a private, unpooled connection.</summary>
    public object? Sql(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={this.Database};Pooling=False");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(this.Root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
