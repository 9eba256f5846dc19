using TraceProf.Storage;

namespace TraceProf.Tests.Storage.Sqlite;

/// <summary>A real database file with garbage over its header, opened the way the host opens its store.</summary>
public sealed class SqliteStoreOpenerTests : IDisposable
{
    private readonly StoreFolder folder = new();

    public void Dispose() => this.folder.Dispose();

    [Fact]
    public async Task CorruptDatabase_IsMovedAside_AndAFreshStoreOpens()
    {
        using (var store = new SqliteSnapshotStore(this.folder.Options()))
        {
            await store.AddAsync(Snapshots.New(), this.folder.Artifacts(), CancellationToken.None);
        }

        using (var file = new FileStream(this.folder.Database, FileMode.Open, FileAccess.Write))
        {
            file.Write(new byte[100].Select(_ => (byte)'X').ToArray());
        }

        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 1, 2, 3, TimeSpan.Zero));
        using var guard = new SnapshotStoreGuard(new SqliteStoreOpener(this.folder.Options(), "TraceProf:Storage:Path", time), time);
        await guard.StartAsync(CancellationToken.None);

        Assert.True(guard.Health.IsReady, guard.Health.Reason);
        string aside = this.folder.Database + ".corrupt-20261202T010203Z";
        Assert.True(File.Exists(aside));
        Assert.Equal((byte)'X', File.ReadAllBytes(aside)[0]);
        Assert.Equal(2, Directory.GetFiles(this.folder.Blobs + ".corrupt-20261202T010203Z").Length); // the old snapshot's pprof and nettrace, kept with it
        Assert.Empty(await guard.ListAsync(new SnapshotQuery(), CancellationToken.None));

        SnapshotInfo info = Snapshots.New();
        await guard.AddAsync(info, this.folder.Artifacts(), CancellationToken.None);
        Assert.NotNull(await guard.GetAsync(info.Id, CancellationToken.None));
    }

    [Fact]
    public async Task DatabaseFromANewerVersion_LeavesTheHostRunningWithoutAStore_AndSaysWhy()
    {
        using (new SqliteSnapshotStore(this.folder.Options()))
        {
        }

        this.folder.Sql("PRAGMA user_version = 99;");
        using var guard = new SnapshotStoreGuard(new SqliteStoreOpener(this.folder.Options(), "TraceProf:Storage:Path"));
        await guard.StartAsync(CancellationToken.None);

        Assert.False(guard.Health.IsReady);
        Assert.Contains("schema version 99", guard.Health.Reason, StringComparison.Ordinal);
        Assert.Null(guard.Retrying); // a file does not change by itself; no background retries
        Assert.Equal(99L, this.folder.Sql("PRAGMA user_version;")); // left as it was, for a newer TraceProf
    }
}
