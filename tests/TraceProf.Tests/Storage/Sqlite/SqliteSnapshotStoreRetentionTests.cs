using Microsoft.Extensions.Time.Testing;
using TraceProf.Storage;

namespace TraceProf.Tests.Storage.Sqlite;

public sealed class SqliteSnapshotStoreRetentionTests : IDisposable
{
    private readonly StoreFolder folder = new();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => this.folder.Dispose();

    [Fact]
    public async Task Retention_ByCount_DeletesOldestRowsAndFiles()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options(maxCount: 3), this.time);
        List<string> ids = await this.AddSeveralAsync(store, 5);

        Assert.Equal([ids[4], ids[3], ids[2]], await ListIdsAsync(store));
        Assert.Equal(6, this.folder.BlobFiles().Length);
        Assert.DoesNotContain(this.folder.BlobFiles(), f => f.StartsWith(ids[0], StringComparison.Ordinal) || f.StartsWith(ids[1], StringComparison.Ordinal));
    }

    [Fact]
    public async Task Retention_ByAge_DeletesExpiredSnapshotsOnNextAdd()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options(maxAge: TimeSpan.FromDays(7)), this.time);
        List<string> old = await this.AddSeveralAsync(store, 2);

        this.time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromSeconds(1));
        List<string> fresh = await this.AddSeveralAsync(store, 1);

        Assert.Equal(fresh, await ListIdsAsync(store));
        Assert.Equal(2, this.folder.BlobFiles().Length);
        Assert.Null(await store.GetAsync(old[0], CancellationToken.None));
    }

    [Fact]
    public async Task Retention_ByAge_AppliesWhenTheStoreOpens()
    {
        using (var store = new SqliteSnapshotStore(this.folder.Options(maxAge: TimeSpan.FromHours(1)), this.time))
        {
            await this.AddSeveralAsync(store, 2);
        }

        this.time.Advance(TimeSpan.FromHours(2));
        using var reopened = new SqliteSnapshotStore(this.folder.Options(maxAge: TimeSpan.FromHours(1)), this.time);

        Assert.Empty(await ListIdsAsync(reopened));
        Assert.Empty(this.folder.BlobFiles());
    }

    [Fact]
    public async Task Retention_ByAge_KeepsSnapshotsYoungerThanMaxAge()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options(maxAge: TimeSpan.FromDays(7)), this.time);
        List<string> ids = await this.AddSeveralAsync(store, 2);

        this.time.Advance(TimeSpan.FromDays(6));
        ids.AddRange(await this.AddSeveralAsync(store, 1));

        Assert.Equal(3, (await ListIdsAsync(store)).Length);
    }

    [Fact]
    public async Task Retention_ByBytes_DeletesOldestUntilTotalFits()
    {
        // 1 MiB allowed; each snapshot is 400 KB, so only two fit.
        using var store = new SqliteSnapshotStore(this.folder.Options(maxTotalBytes: 1 << 20), this.time);
        var ids = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            SnapshotInfo stored = await store.AddAsync(
                this.NewInfo(), this.folder.Artifacts(profileBytes: 100_000, nettraceBytes: 300_000), CancellationToken.None);
            ids.Add(stored.Id);
            this.time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal([ids[3], ids[2]], await ListIdsAsync(store));
        Assert.Equal(4, this.folder.BlobFiles().Length);
        long bytesOnDisk = Directory.GetFiles(this.folder.Blobs).Sum(f => new FileInfo(f).Length);
        Assert.True(bytesOnDisk <= 1 << 20, $"{bytesOnDisk} bytes on disk");
    }

    [Fact]
    public async Task Add_ProfileLargerThanMaxTotalBytes_IsRefused_AndFilesDeleted()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options(maxTotalBytes: 1 << 20), this.time);
        List<string> kept = await this.AddSeveralAsync(store, 1);

        Dictionary<SnapshotArtifact, string> artifacts = this.folder.Artifacts(profileBytes: (1 << 20) + 1, nettraceBytes: 10);
        await Assert.ThrowsAsync<SnapshotTooLargeException>(() => store.AddAsync(this.NewInfo(), artifacts, CancellationToken.None));

        Assert.Equal(kept, await ListIdsAsync(store)); // nothing older was evicted for it
        Assert.Empty(this.folder.IncomingFiles());
        Assert.Equal(2, this.folder.BlobFiles().Length);
    }

    [Fact]
    public async Task Add_NettraceLargerThanMaxTotalBytes_KeepsTheProfile_AndOlderSnapshotsMakeRoom()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options(maxTotalBytes: 1 << 20), this.time);
        List<string> older = await this.AddSeveralAsync(store, 1);

        SnapshotInfo info = this.NewInfo();
        await store.AddAsync(info, this.folder.Artifacts(profileBytes: 2000, nettraceBytes: (1 << 20) + 1), CancellationToken.None);

        string[] listed = await ListIdsAsync(store);
        Assert.Equal([info.Id, .. older], listed); // the small profile fits beside the older one
        Assert.Equal([info.Id + ".pb.gz"], this.folder.BlobFiles().Where(f => f.StartsWith(info.Id, StringComparison.Ordinal)));
        Assert.Empty(this.folder.IncomingFiles());
        Assert.NotNull((await store.GetAsync(info.Id, CancellationToken.None))!.NettraceOmitted);
    }

    [Fact]
    public async Task OpenArtifact_WhileRetentionDeletesIt_StillReadsTheWholeFile()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options(maxCount: 1), this.time);
        Dictionary<SnapshotArtifact, string> artifacts = this.folder.Artifacts(profileBytes: 70_000, nettraceBytes: 10, seed: 3);
        byte[] expected = File.ReadAllBytes(artifacts[SnapshotArtifact.Pprof]);
        SnapshotInfo first = await store.AddAsync(this.NewInfo(), artifacts, CancellationToken.None);

        await using Stream? stream = await store.OpenArtifactAsync(first.Id, SnapshotArtifact.Pprof, CancellationToken.None);
        Assert.NotNull(stream);
        this.time.Advance(TimeSpan.FromSeconds(1));
        await this.AddSeveralAsync(store, 1);

        Assert.Null(await store.GetAsync(first.Id, CancellationToken.None));
        Assert.False(File.Exists(Path.Combine(this.folder.Blobs, first.Id + ".pb.gz")));
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(expected, copy.ToArray());
    }

    [Theory]
    [InlineData(0, 1L << 30, 7.0 * 24 * 60)]
    [InlineData(100_001, 1L << 30, 7.0 * 24 * 60)]
    [InlineData(10, (1L << 20) - 1, 7.0 * 24 * 60)]
    [InlineData(10, 1L << 30, 0.5)]
    [InlineData(10, 1L << 30, 3651.0 * 24 * 60)]
    public void Constructor_OptionOutOfRange_ThrowsArgumentException(int maxCount, long maxTotalBytes, double maxAgeMinutes)
    {
        SnapshotStoreOptions options = this.folder.Options(maxCount, maxTotalBytes, TimeSpan.FromMinutes(maxAgeMinutes));

        ArgumentException error = Assert.Throws<ArgumentException>(() => new SqliteSnapshotStore(options, this.time));
        Assert.Contains("SnapshotStoreOptions.", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(this.folder.StorePath)); // validated before touching the disk
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Constructor_WithoutPath_ThrowsArgumentException(string path)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(
            () => new SqliteSnapshotStore(new SnapshotStoreOptions { Path = path }, this.time));
        Assert.Contains("Path", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Defaults_AreDocumentedValues()
    {
        var options = new SnapshotStoreOptions();

        Assert.Equal(1000, options.MaxCount);
        Assert.Equal(TimeSpan.FromDays(7), options.MaxAge);
        Assert.Equal(1L << 30, options.MaxTotalBytes);
    }

    private async Task<List<string>> AddSeveralAsync(SqliteSnapshotStore store, int count)
    {
        var ids = new List<string>();
        for (int i = 0; i < count; i++)
        {
            SnapshotInfo stored = await store.AddAsync(this.NewInfo(), this.folder.Artifacts(), CancellationToken.None);
            ids.Add(stored.Id);

            // Distinct stored-at times make "oldest" unambiguous.
            this.time.Advance(TimeSpan.FromSeconds(1));
        }

        return ids;
    }

    // StartedAt and id follow the fake clock, so "newest first" is the order of the adds.
    private SnapshotInfo NewInfo() => Snapshots.New(startedAt: this.time.GetUtcNow(), id: SnapshotIds.NewId(this.time));

    private static async Task<string[]> ListIdsAsync(SqliteSnapshotStore store)
    {
        IReadOnlyList<SnapshotInfo> all = await store.ListAsync(new SnapshotQuery { Limit = SnapshotQuery.MaxLimit }, CancellationToken.None);
        return all.Select(s => s.Id).ToArray();
    }
}
