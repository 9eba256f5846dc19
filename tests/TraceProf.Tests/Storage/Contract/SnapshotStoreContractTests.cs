using Microsoft.Extensions.Time.Testing;
using TraceProf.Storage;

namespace TraceProf.Tests.Storage.Contract;

/// <summary>
/// The behaviour every <see cref="ISnapshotStore"/> must have, run against each real implementation
/// (SQLite on a temp folder, PostgreSQL on a real server).
/// </summary>
public abstract class SnapshotStoreContractTests : IDisposable
{
    private readonly StoreFolder _folder = new();

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public void Dispose()
    {
        DisposeStores();
        _folder.Dispose();
        GC.SuppressFinalize(this);
    }

    protected abstract ISnapshotStore Open(SnapshotStoreOptions limits);

    protected virtual void DisposeStores()
    {
    }

    private ISnapshotStore Open(int maxCount = 1000, long maxTotalBytes = SnapshotStoreOptions.DefaultMaxTotalBytes, TimeSpan? maxAge = null) =>
        Open(_folder.Options(maxCount, maxTotalBytes, maxAge));

    [SkippableFact]
    public async Task Add_ThenGet_ReturnsRowWithSizes_AndArtifactsWithTheSameBytes()
    {
        var store = Open();
        var artifacts = _folder.Artifacts(profileBytes: 120, nettraceBytes: 340, seed: 7);
        var expectedPprof = await File.ReadAllBytesAsync(artifacts[SnapshotArtifact.Pprof]);
        var info = Snapshots.New() with { ServiceInstanceId = "instance-1" };

        var stored = await store.AddAsync(info, artifacts, CancellationToken.None);

        Assert.Equal(120, stored.ProfileBytes);
        Assert.Equal(340, stored.NettraceBytes);
        Assert.Empty(_folder.IncomingFiles());
        var row = await store.GetAsync(info.Id, CancellationToken.None);
        Assert.NotNull(row);
        Assert.Equal(info.TraceId, row.TraceId);
        Assert.Equal(info.StartedAt, row.StartedAt);
        Assert.Equal(info.Duration, row.Duration);
        Assert.Equal("instance-1", row.ServiceInstanceId);
        Assert.Equal(340, row.NettraceBytes);
        await using var pprof = await store.OpenArtifactAsync(info.Id, SnapshotArtifact.Pprof, CancellationToken.None);
        using var copy = new MemoryStream();
        await pprof!.CopyToAsync(copy);
        Assert.Equal(expectedPprof, copy.ToArray());
    }

    [SkippableFact]
    public async Task List_ByTraceId_FindsStoredUnderAndContaining_NewestFirst_WithKindSinceAndLimit()
    {
        var store = Open();
        var old = Snapshots.New(Snapshots.TraceA, startedAt: new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var newer = Snapshots.New(Snapshots.TraceB, kind: "allocs", startedAt: new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero)) with { ContainedTraceIds = [Snapshots.TraceA] };
        var other = Snapshots.New(Snapshots.TraceB, startedAt: new DateTimeOffset(2026, 1, 3, 0, 0, 0, TimeSpan.Zero));
        foreach (var info in new[] { old, newer, other })
        {
            await store.AddAsync(info, _folder.Artifacts(), CancellationToken.None);
        }

        var byTrace = await store.ListAsync(new SnapshotQuery { TraceId = Snapshots.TraceA }, CancellationToken.None);
        Assert.Equal([newer.Id, old.Id], byTrace.Select(s => s.Id));
        Assert.Equal([Snapshots.TraceA], byTrace[0].ContainedTraceIds);
        Assert.Equal([newer.Id], (await store.ListAsync(new SnapshotQuery { TraceId = Snapshots.TraceA, Kind = "allocs" }, CancellationToken.None)).Select(s => s.Id));
        Assert.Equal([other.Id, newer.Id], (await store.ListAsync(new SnapshotQuery { Since = newer.StartedAt }, CancellationToken.None)).Select(s => s.Id));
        Assert.Equal([other.Id], (await store.ListAsync(new SnapshotQuery { Limit = 1 }, CancellationToken.None)).Select(s => s.Id));
    }

    [SkippableFact]
    public async Task List_ByTriggerPrefix_IsExactAndCaseSensitive_AndWildcardsAreLiteral()
    {
        var store = Open();
        string[] triggers = ["status:500", "status:503", "slow:2100", "request", "Status:500", "heap-growth:50%", "heap-growthX50", "a_b", "axb"];
        var added = new Dictionary<string, string>();
        var day = 0;
        foreach (var trigger in triggers)
        {
            var info = Snapshots.New(startedAt: new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddHours(day++)) with { Trigger = trigger };
            await store.AddAsync(info, _folder.Artifacts(), CancellationToken.None);
            added[trigger] = info.Id;
        }

        async Task<string[]> Triggers(string prefix) =>
            [.. (await store.ListAsync(new SnapshotQuery { Trigger = prefix }, CancellationToken.None)).Select(s => s.Trigger)];

        Assert.Equal(["status:503", "status:500"], await Triggers("status:5")); // newest first, not "Status:500"
        Assert.Equal(["status:500"], await Triggers("status:500"));
        Assert.Equal(["slow:2100"], await Triggers("slow:"));
        Assert.Equal(["heap-growth:50%"], await Triggers("heap-growth:")); // "_" and "%" are not wildcards
        Assert.Equal(["a_b"], await Triggers("a_"));
        Assert.Empty(await Triggers("status:5000"));
        Assert.Equal(["status:503"], (await store.ListAsync(new SnapshotQuery { Trigger = "status:", Limit = 1 }, CancellationToken.None)).Select(s => s.Trigger));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ListAsync(new SnapshotQuery { Trigger = "" }, CancellationToken.None));
    }

    [SkippableFact]
    public async Task Retention_ByCountBytesAndAge_DeletesOldestFirst()
    {
        var store = Open(maxCount: 2, maxTotalBytes: 2 * 1024 * 1024, maxAge: TimeSpan.FromHours(1));
        var first = Snapshots.New();
        await store.AddAsync(first, _folder.Artifacts(), CancellationToken.None);
        Time.Advance(TimeSpan.FromMinutes(1));
        var second = Snapshots.New();
        await store.AddAsync(second, _folder.Artifacts(), CancellationToken.None);
        Time.Advance(TimeSpan.FromMinutes(1));
        var third = Snapshots.New();
        await store.AddAsync(third, _folder.Artifacts(), CancellationToken.None);
        Assert.Null(await store.GetAsync(first.Id, CancellationToken.None));
        Assert.Null(await store.OpenArtifactAsync(first.Id, SnapshotArtifact.Pprof, CancellationToken.None));

        // Bytes: a snapshot just under the 2 MiB limit leaves room for nothing older.
        Time.Advance(TimeSpan.FromMinutes(1));
        var big = Snapshots.New();
        await store.AddAsync(big, _folder.Artifacts(profileBytes: 2_096_900, nettraceBytes: 100), CancellationToken.None);
        Assert.Equal([big.Id], (await store.ListAsync(new SnapshotQuery(), CancellationToken.None)).Select(s => s.Id));

        // Age: an hour later the next add sweeps it.
        Time.Advance(TimeSpan.FromHours(2));
        var late = Snapshots.New();
        await store.AddAsync(late, _folder.Artifacts(), CancellationToken.None);
        Assert.Equal([late.Id], (await store.ListAsync(new SnapshotQuery(), CancellationToken.None)).Select(s => s.Id));
    }

    [SkippableFact]
    public async Task Add_TooLarge_IsRefused_AndTheFilesAreGone()
    {
        var store = Open(maxTotalBytes: 1024 * 1024);
        var info = Snapshots.New();
        await Assert.ThrowsAsync<SnapshotTooLargeException>(() => store.AddAsync(info, _folder.Artifacts(profileBytes: (1024 * 1024) + 1, nettraceBytes: 10), CancellationToken.None));
        Assert.Null(await store.GetAsync(info.Id, CancellationToken.None));
        Assert.Empty(_folder.IncomingFiles());
    }

    [SkippableFact]
    public async Task Add_NettraceDoesNotFit_StoresTheProfileWithoutIt_AndTheRowSaysWhy()
    {
        var store = Open(maxTotalBytes: 1024 * 1024);
        var info = Snapshots.New();
        var stored = await store.AddAsync(info, _folder.Artifacts(profileBytes: 5000, nettraceBytes: 1536 * 1024), CancellationToken.None);

        Assert.Equal(5000, stored.ProfileBytes);
        Assert.Equal(0, stored.NettraceBytes);
        var row = await store.GetAsync(info.Id, CancellationToken.None);
        Assert.NotNull(row);
        Assert.Equal(0, row.NettraceBytes);
        Assert.Contains("raw trace (1572864 bytes) was not stored", row.NettraceOmitted, StringComparison.Ordinal);
        Assert.Contains("MaxTotalBytes 1048576", row.NettraceOmitted, StringComparison.Ordinal);
        Assert.Null(await store.OpenArtifactAsync(info.Id, SnapshotArtifact.Nettrace, CancellationToken.None));
        await using (var profile = await store.OpenArtifactAsync(info.Id, SnapshotArtifact.Pprof, CancellationToken.None))
        {
            Assert.Equal(5000, profile!.Length);
        }

        Assert.Empty(_folder.IncomingFiles());
        Assert.Equal(row.NettraceOmitted, Assert.Single(await store.ListAsync(new SnapshotQuery(), CancellationToken.None)).NettraceOmitted);
    }

    [SkippableFact]
    public async Task Add_DuplicateId_IsRefused_AndKeepsTheOriginal()
    {
        var store = Open();
        var info = Snapshots.New();
        await store.AddAsync(info, _folder.Artifacts(profileBytes: 10), CancellationToken.None);
        await Assert.ThrowsAsync<ArgumentException>(() => store.AddAsync(info, _folder.Artifacts(profileBytes: 20), CancellationToken.None));
        Assert.Equal(10, (await store.GetAsync(info.Id, CancellationToken.None))!.ProfileBytes);
    }

    [SkippableTheory]
    [InlineData("../../etc/passwd")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("x'; DROP TABLE snapshots; --")]
    public async Task MalformedIds_AreRejected(string id)
    {
        var store = Open();
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(id, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenArtifactAsync(id, SnapshotArtifact.Pprof, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ListAsync(new SnapshotQuery { TraceId = id }, CancellationToken.None));
    }

    [SkippableFact]
    public async Task ConcurrentAdds_AllLand()
    {
        var store = Open();
        var infos = Enumerable.Range(0, 20).Select(_ => Snapshots.New()).ToList();
        await Task.WhenAll(infos.Select(info => Task.Run(() => store.AddAsync(info, _folder.Artifacts(), CancellationToken.None))));
        Assert.Equal(20, (await store.ListAsync(new SnapshotQuery(), CancellationToken.None)).Count);
    }
}
