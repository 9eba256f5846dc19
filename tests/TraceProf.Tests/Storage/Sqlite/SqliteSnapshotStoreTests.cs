using Microsoft.Extensions.Time.Testing;
using TraceProf.Storage;

namespace TraceProf.Tests.Storage.Sqlite;

public sealed class SqliteSnapshotStoreTests : IDisposable
{
    private readonly StoreFolder folder = new();

    public void Dispose() => this.folder.Dispose();

    [Fact]
    public async Task Add_ThenReopen_FindsSnapshotByTraceId()
    {
        SnapshotInfo info = Snapshots.New(Snapshots.TraceA);
        using (var store = new SqliteSnapshotStore(this.folder.Options()))
        {
            await store.AddAsync(info, this.folder.Artifacts(profileBytes: 10, nettraceBytes: 20), CancellationToken.None);
        }

        using var reopened = new SqliteSnapshotStore(this.folder.Options());
        IReadOnlyList<SnapshotInfo> found = await reopened.ListAsync(
            new SnapshotQuery { TraceId = Snapshots.TraceA }, CancellationToken.None);

        SnapshotInfo only = Assert.Single(found);
        Assert.Equal(info with { ProfileBytes = 10, NettraceBytes = 20 }, only);
        Assert.Equal(only, await reopened.GetAsync(info.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Add_MovesFilesIntoBlobs_FillsSizes_AndServesTheSameBytes()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        Dictionary<SnapshotArtifact, string> artifacts = this.folder.Artifacts(profileBytes: 123, nettraceBytes: 4567, seed: 7);
        byte[] expected = File.ReadAllBytes(artifacts[SnapshotArtifact.Nettrace]);

        SnapshotInfo stored = await store.AddAsync(Snapshots.New(), artifacts, CancellationToken.None);

        Assert.Equal(123, stored.ProfileBytes);
        Assert.Equal(4567, stored.NettraceBytes);
        Assert.Empty(this.folder.IncomingFiles());
        Assert.Equal([$"{stored.Id}.nettrace", $"{stored.Id}.pb.gz"], this.folder.BlobFiles());
        await using Stream? stream = await store.OpenArtifactAsync(stored.Id, SnapshotArtifact.Nettrace, CancellationToken.None);
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(expected, copy.ToArray());
    }

    [Fact]
    public async Task Add_WithOnlyAProfile_HasNoNettrace()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        SnapshotInfo stored = await store.AddAsync(
            Snapshots.New(), this.folder.Artifacts(profileBytes: 0, nettraceBytes: -1), CancellationToken.None);

        Assert.Equal(0, stored.ProfileBytes);
        Assert.Equal(0, stored.NettraceBytes);
        await using Stream? profile = await store.OpenArtifactAsync(stored.Id, SnapshotArtifact.Pprof, CancellationToken.None);
        Assert.NotNull(profile); // an empty file is still an artifact
        Assert.Null(await store.OpenArtifactAsync(stored.Id, SnapshotArtifact.Nettrace, CancellationToken.None));
    }

    [Fact]
    public async Task Get_UnknownId_ReturnsNull_AndOpenArtifactReturnsNull()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        string id = SnapshotIds.NewId(TimeProvider.System);

        Assert.Null(await store.GetAsync(id, CancellationToken.None));
        Assert.Null(await store.OpenArtifactAsync(id, SnapshotArtifact.Pprof, CancellationToken.None));
    }

    [Fact]
    public async Task List_FiltersByTraceIdKindAndSince_NewestFirst()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        var t0 = new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
        SnapshotInfo a1 = await this.AddAsync(store, Snapshots.New(Snapshots.TraceA, "cpu", t0));
        SnapshotInfo a2 = await this.AddAsync(store, Snapshots.New(Snapshots.TraceA, "allocs", t0.AddMinutes(1)));
        SnapshotInfo a3 = await this.AddAsync(store, Snapshots.New(Snapshots.TraceA, "cpu", t0.AddMinutes(2)));
        SnapshotInfo b1 = await this.AddAsync(store, Snapshots.New(Snapshots.TraceB, "cpu", t0.AddMinutes(3)));

        Assert.Equal([b1.Id, a3.Id, a2.Id, a1.Id], await ListIdsAsync(store, new SnapshotQuery()));
        Assert.Equal([a3.Id, a2.Id, a1.Id], await ListIdsAsync(store, new SnapshotQuery { TraceId = Snapshots.TraceA }));
        Assert.Equal([a3.Id, a1.Id], await ListIdsAsync(store, new SnapshotQuery { TraceId = Snapshots.TraceA, Kind = "cpu" }));
        Assert.Equal([b1.Id, a3.Id], await ListIdsAsync(store, new SnapshotQuery { Kind = "cpu", Since = t0.AddMinutes(2) }));

        // Since compares instants, whatever the offset it is written with.
        Assert.Equal([b1.Id], await ListIdsAsync(store, new SnapshotQuery { Since = t0.AddMinutes(3).ToOffset(TimeSpan.FromHours(2)) }));
        Assert.Empty(await ListIdsAsync(store, new SnapshotQuery { Kind = "contention" }));
    }

    [Fact]
    public async Task List_ReturnsAtMostLimitRows_TheNewest()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        var t0 = new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var ids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            ids.Add((await this.AddAsync(store, Snapshots.New(startedAt: t0.AddSeconds(i)))).Id);
        }

        Assert.Equal([ids[4], ids[3]], await ListIdsAsync(store, new SnapshotQuery { Limit = 2 }));
        Assert.Equal(5, (await ListIdsAsync(store, new SnapshotQuery { Limit = SnapshotQuery.MaxLimit })).Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(SnapshotQuery.MaxLimit + 1)]
    public async Task List_LimitOutOfRange_ThrowsArgumentException(int limit)
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        await Assert.ThrowsAsync<ArgumentException>(
            () => store.ListAsync(new SnapshotQuery { Limit = limit }, CancellationToken.None));
    }

    [Fact]
    public async Task ConcurrentAdds_FromSeveralTasks_AllLand()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        const int Tasks = 6;
        const int PerTask = 10;

        // Writers and readers together: reads must not fail while adds hold the write lock.
        Task[] writers = Enumerable.Range(0, Tasks).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < PerTask; i++)
            {
                await store.AddAsync(Snapshots.New(), this.folder.Artifacts(profileBytes: 50, nettraceBytes: 60), CancellationToken.None);
                await store.ListAsync(new SnapshotQuery { TraceId = Snapshots.TraceA }, CancellationToken.None);
            }
        })).ToArray();
        await Task.WhenAll(writers);

        IReadOnlyList<SnapshotInfo> all = await store.ListAsync(new SnapshotQuery { Limit = SnapshotQuery.MaxLimit }, CancellationToken.None);
        Assert.Equal(Tasks * PerTask, all.Count);
        Assert.Equal(Tasks * PerTask, all.Select(s => s.Id).Distinct().Count());
        Assert.Equal(2 * Tasks * PerTask, this.folder.BlobFiles().Length);
        Assert.Empty(this.folder.IncomingFiles());
    }

    [Fact]
    public async Task ContainedTraceIds_FindTheSnapshot_AndGoWithIt()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        var info = Snapshots.New(Snapshots.TraceA) with { ContainedTraceIds = [Snapshots.TraceB] };
        await store.AddAsync(info, this.folder.Artifacts(), CancellationToken.None);
        await store.AddAsync(Snapshots.New(Snapshots.TraceA), this.folder.Artifacts(), CancellationToken.None);

        var byContained = await store.ListAsync(new SnapshotQuery { TraceId = Snapshots.TraceB }, CancellationToken.None);
        var found = Assert.Single(byContained);
        Assert.Equal(info.Id, found.Id);
        Assert.Equal([Snapshots.TraceB], found.ContainedTraceIds);
        Assert.Equal(2, (await store.ListAsync(new SnapshotQuery { TraceId = Snapshots.TraceA }, CancellationToken.None)).Count);

        await Assert.ThrowsAsync<ArgumentException>(() =>
            store.AddAsync(Snapshots.New() with { ContainedTraceIds = ["NOT-A-TRACE"] }, this.folder.Artifacts(), CancellationToken.None));
    }

    [Fact]
    public void Open_PutsDatabaseInWalMode_AndSetsSchemaVersion()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());

        Assert.Equal("wal", this.folder.Sql("PRAGMA journal_mode;"));
        Assert.Equal((long)SqliteSnapshotSchema.CurrentVersion, this.folder.Sql("PRAGMA user_version;"));
        Assert.Equal(5, SqliteSnapshotSchema.CurrentVersion); // v5: the trigger index
        Assert.Equal(1L, this.folder.Sql("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_snapshots_trace_id';"));
        Assert.Equal(1L, this.folder.Sql("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_snapshots_started_at';"));
    }

    [Fact]
    public void Open_DatabaseFromNewerVersion_ThrowsInvalidOperationException()
    {
        using (new SqliteSnapshotStore(this.folder.Options()))
        {
        }

        this.folder.Sql("PRAGMA user_version = 99;");

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => new SqliteSnapshotStore(this.folder.Options()));
        Assert.Contains("99", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_ThenCall_ThrowsObjectDisposedException()
    {
        var store = new SqliteSnapshotStore(this.folder.Options());
        store.Dispose();
        store.Dispose(); // idempotent

        await Assert.ThrowsAsync<ObjectDisposedException>(
            () => store.GetAsync(SnapshotIds.NewId(TimeProvider.System), CancellationToken.None));
        Dictionary<SnapshotArtifact, string> artifacts = this.folder.Artifacts();
        await Assert.ThrowsAsync<ObjectDisposedException>(
            () => store.AddAsync(Snapshots.New(), artifacts, CancellationToken.None));
        Assert.Empty(this.folder.IncomingFiles());
    }

    [Fact]
    public void SnapshotIds_NewId_IsValidAndSortsByCreationTime()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
        string first = SnapshotIds.NewId(time);
        time.Advance(TimeSpan.FromMilliseconds(2));
        string second = SnapshotIds.NewId(time);

        Assert.True(SnapshotIds.IsValid(first));
        Assert.True(string.CompareOrdinal(first, second) < 0);
    }

    [Theory]
    [InlineData("4bf92f3577b34da6a3ce929d0e0e4736", true)]
    [InlineData("4BF92F3577B34DA6A3CE929D0E0E4736", false)]
    [InlineData("4bf92f3577b34da6a3ce929d0e0e473", false)]
    [InlineData("4bf92f3577b34da6a3ce929d0e0e47366", false)]
    [InlineData("00000000000000000000000000000000", false)]
    [InlineData("4bf92f35-7b34-da6a-3ce9-29d0e0e473", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void TraceIds_IsValid_AcceptsOnlyW3CTraceIds(string? traceId, bool valid) =>
        Assert.Equal(valid, TraceIds.IsValid(traceId));

    private async Task<SnapshotInfo> AddAsync(SqliteSnapshotStore store, SnapshotInfo info) =>
        await store.AddAsync(info, this.folder.Artifacts(), CancellationToken.None);

    private static async Task<string[]> ListIdsAsync(SqliteSnapshotStore store, SnapshotQuery query) =>
        (await store.ListAsync(query, CancellationToken.None)).Select(s => s.Id).ToArray();
}
