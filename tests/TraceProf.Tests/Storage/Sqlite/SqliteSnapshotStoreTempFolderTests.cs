using Microsoft.Extensions.Time.Testing;
using TraceProf.Storage;

namespace TraceProf.Tests.Storage.Sqlite;

/// <summary>Issue 16, fault 7: files of captures that never finished are swept at open and count toward the quota.</summary>
public sealed class SqliteSnapshotStoreTempFolderTests : IDisposable
{
    private readonly StoreFolder folder = new();

    // The sweep compares files' real write times with the store's clock, so the clock starts at the real now.
    private readonly FakeTimeProvider time = new(DateTimeOffset.UtcNow);

    private string Temp => Path.Combine(this.folder.StorePath, "tmp");

    public void Dispose() => this.folder.Dispose();

    [Fact]
    public void Open_DeletesAbandonedCaptureFilesOlderThanTheGrace_AndLeavesYoungAndForeignFiles()
    {
        string abandoned = this.WriteTemp(SnapshotIds.NewId(TimeProvider.System) + ".nettrace.tmp", 1000, age: TimeSpan.FromMinutes(11));
        string abandonedCopy = this.WriteTemp(SnapshotIds.NewId(TimeProvider.System) + ".pb.gz.tmp.2", 10, age: TimeSpan.FromHours(3));
        string abandonedEtlx = this.WriteTemp(Guid.NewGuid().ToString("N") + ".etlx", 10, age: TimeSpan.FromDays(2));
        string inFlight = this.WriteTemp(SnapshotIds.NewId(TimeProvider.System) + ".nettrace.tmp", 1000, age: TimeSpan.FromMinutes(1));
        string foreign = this.WriteTemp("someone-elses-notes.txt", 10, age: TimeSpan.FromDays(30));

        using (new SqliteSnapshotStore(this.Options(), this.time))
        {
        }

        Assert.False(File.Exists(abandoned));
        Assert.False(File.Exists(abandonedCopy));
        Assert.False(File.Exists(abandonedEtlx));
        Assert.True(File.Exists(inFlight), "a file written in the last minutes may be another process's capture in flight");
        Assert.True(File.Exists(foreign), "the sweep deletes only names captures write");
    }

    [Fact]
    public async Task Retention_CountsWhatIsLeftInTheTempFolder_TowardMaxTotalBytes()
    {
        using var store = new SqliteSnapshotStore(this.Options(maxTotalBytes: 1 << 20), this.time);
        SnapshotInfo older = await store.AddAsync(Snapshots.New(), this.folder.Artifacts(profileBytes: 300 * 1024, nettraceBytes: -1), CancellationToken.None);
        this.time.Advance(TimeSpan.FromSeconds(1));

        // A capture that crashed a minute ago (young, so not swept) left 700 KB; 300 + 700 + 100 KB exceed 1 MiB.
        this.WriteTemp(SnapshotIds.NewId(TimeProvider.System) + ".nettrace.tmp", 700 * 1024, age: TimeSpan.FromMinutes(1));
        SnapshotInfo newer = Snapshots.New();

        // The snapshot being stored still has its originals in the temp folder; they do not count twice.
        this.WriteTemp(newer.Id + ".pb.gz.tmp", 100 * 1024, age: TimeSpan.Zero);
        await store.AddAsync(newer, this.folder.Artifacts(profileBytes: 100 * 1024, nettraceBytes: -1), CancellationToken.None);

        SnapshotInfo[] kept = [.. await store.ListAsync(new SnapshotQuery(), CancellationToken.None)];
        Assert.Equal([newer.Id], kept.Select(s => s.Id));
        Assert.Null(await store.GetAsync(older.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Retention_WithoutTempFiles_KeepsBothSnapshots()
    {
        // The control for the test above: the same two snapshots fit when the temp folder is empty.
        using var store = new SqliteSnapshotStore(this.Options(maxTotalBytes: 1 << 20), this.time);
        await store.AddAsync(Snapshots.New(), this.folder.Artifacts(profileBytes: 300 * 1024, nettraceBytes: -1), CancellationToken.None);
        this.time.Advance(TimeSpan.FromSeconds(1));
        await store.AddAsync(Snapshots.New(), this.folder.Artifacts(profileBytes: 100 * 1024, nettraceBytes: -1), CancellationToken.None);
        Assert.Equal(2, (await store.ListAsync(new SnapshotQuery(), CancellationToken.None)).Count);
    }

    private SnapshotStoreOptions Options(long maxTotalBytes = SnapshotStoreOptions.DefaultMaxTotalBytes)
    {
        SnapshotStoreOptions options = this.folder.Options(maxTotalBytes: maxTotalBytes);
        options.CaptureTempPath = this.Temp;
        return options;
    }

    private string WriteTemp(string name, int length, TimeSpan age)
    {
        Directory.CreateDirectory(this.Temp);
        string path = Path.Combine(this.Temp, name);
        File.WriteAllBytes(path, new byte[length]);
        File.SetLastWriteTimeUtc(path, this.time.GetUtcNow().UtcDateTime - age);
        return path;
    }
}
