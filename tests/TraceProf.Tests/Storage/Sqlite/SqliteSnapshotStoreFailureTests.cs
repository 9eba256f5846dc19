using TraceProf.Storage;

namespace TraceProf.Tests.Storage.Sqlite;

public sealed class SqliteSnapshotStoreFailureTests : IDisposable
{
    private readonly StoreFolder folder = new();

    public void Dispose() => this.folder.Dispose();

    [Fact]
    public async Task Add_WhenInsertFails_LeavesNoRowAndNoFile()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        bool filesWereInPlace = false;
        store.BeforeInsertForTesting = _ =>
        {
            filesWereInPlace = this.folder.BlobFiles().Length == 2;
            throw new IOException("disk full (simulated)");
        };
        SnapshotInfo info = Snapshots.New();

        await Assert.ThrowsAsync<IOException>(() => store.AddAsync(info, this.folder.Artifacts(), CancellationToken.None));

        Assert.True(filesWereInPlace);
        await this.AssertNothingStoredAsync(store, info.Id);
    }

    [Fact]
    public async Task Add_CancelledAfterFilesMoved_LeavesNoRowAndNoFile()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        using var cancellation = new CancellationTokenSource();
        store.BeforeInsertForTesting = _ =>
        {
            cancellation.Cancel();
            return Task.CompletedTask;
        };
        SnapshotInfo info = Snapshots.New();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => store.AddAsync(info, this.folder.Artifacts(), cancellation.Token));

        await this.AssertNothingStoredAsync(store, info.Id);
    }

    [Fact]
    public async Task Add_AlreadyCancelled_LeavesNoRow_AndDeletesTheCallersFiles()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        SnapshotInfo info = Snapshots.New();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => store.AddAsync(info, this.folder.Artifacts(), new CancellationToken(canceled: true)));

        await this.AssertNothingStoredAsync(store, info.Id);
    }

    [Fact]
    public async Task Add_SourceFileMissing_LeavesNoRowAndNoFile()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        Dictionary<SnapshotArtifact, string> artifacts = this.folder.Artifacts(nettraceBytes: -1);
        artifacts[SnapshotArtifact.Nettrace] = Path.Combine(this.folder.Incoming, "vanished.nettrace");
        SnapshotInfo info = Snapshots.New();

        await Assert.ThrowsAsync<FileNotFoundException>(() => store.AddAsync(info, artifacts, CancellationToken.None));

        await this.AssertNothingStoredAsync(store, info.Id);
    }

    [Fact]
    public async Task Add_DuplicateId_IsRefused_AndKeepsTheOriginal()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        SnapshotInfo original = await store.AddAsync(
            Snapshots.New(), this.folder.Artifacts(profileBytes: 11, nettraceBytes: 22), CancellationToken.None);

        await Assert.ThrowsAsync<ArgumentException>(() => store.AddAsync(
            original with { Kind = "allocs" }, this.folder.Artifacts(profileBytes: 33, nettraceBytes: 44), CancellationToken.None));

        Assert.Equal(original, await store.GetAsync(original.Id, CancellationToken.None));
        Assert.Equal(11, new FileInfo(Path.Combine(this.folder.Blobs, original.Id + ".pb.gz")).Length);
        Assert.Empty(this.folder.IncomingFiles());
        Assert.Equal(2, this.folder.BlobFiles().Length);
    }

    [Fact]
    public async Task Add_WithoutArtifacts_ThrowsArgumentException()
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        await Assert.ThrowsAsync<ArgumentException>(
            () => store.AddAsync(Snapshots.New(), new Dictionary<SnapshotArtifact, string>(), CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(InvalidSnapshotIds))]
    public async Task InvalidSnapshotId_IsRejected_BeforeTouchingDiskOrSql(string id)
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());
        string[] blobsBefore = this.folder.BlobFiles();

        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(id, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenArtifactAsync(id, SnapshotArtifact.Pprof, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenArtifactAsync(id, SnapshotArtifact.Nettrace, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(
            () => store.AddAsync(Snapshots.New(id: id), this.folder.Artifacts(), CancellationToken.None));

        Assert.False(SnapshotIds.IsValid(id));
        Assert.Equal(blobsBefore, this.folder.BlobFiles());
        Assert.Equal(0L, this.folder.Sql("SELECT COUNT(*) FROM snapshots;"));
        Assert.Empty(this.folder.IncomingFiles()); // the store owns the files it was given, even on failure
        Assert.False(File.Exists(Path.Combine(this.folder.Root, "etc", "passwd.pb.gz")));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("4BF92F3577B34DA6A3CE929D0E0E4736")]
    [InlineData("4bf92f3577b34da6a3ce929d0e0e473")]
    [InlineData("00000000000000000000000000000000")]
    [InlineData("not-hex-at-all-not-hex-at-all-xx")]
    public async Task InvalidTraceId_IsRejected_ByAddAndList(string traceId)
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());

        await Assert.ThrowsAsync<ArgumentException>(
            () => store.ListAsync(new SnapshotQuery { TraceId = traceId }, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(
            () => store.AddAsync(Snapshots.New(traceId: traceId), this.folder.Artifacts(), CancellationToken.None));
        Assert.Empty(this.folder.BlobFiles());
    }

    [Theory]
    [InlineData("00F067AA0BA902B7")]
    [InlineData("00f067aa0ba902b")]
    [InlineData("0000000000000000")]
    public async Task InvalidSpanId_IsRejected(string spanId)
    {
        using var store = new SqliteSnapshotStore(this.folder.Options());

        await Assert.ThrowsAsync<ArgumentException>(
            () => store.AddAsync(Snapshots.New() with { SpanId = spanId }, this.folder.Artifacts(), CancellationToken.None));
        Assert.Empty(this.folder.BlobFiles());
    }

    public static TheoryData<string> InvalidSnapshotIds() =>
    [
        "../../etc/passwd",
        "../../../../../../../../../../etc/passwd",
        "0196a3b2c4d57e8f9a0b1c2d3e4f5a6", // 31 characters
        "0196a3b2c4d57e8f9a0b1c2d3e4f5a6b7", // 33 characters
        "0196A3B2C4D57E8F9A0B1C2D3E4F5A6B", // upper case
        "0196a3b2-c4d5-7e8f-9a0b-1c2d3e4f", // dashes
        "0196a3b2c4d57e8f9a0b1c2d3e4f5a6\0",
        "0196a3b2c4d57e8f9a0b1c2d3e4f5a6/",
        "0196a3b2c4d57e8f9a0b1c2d3e4f5a6\u0661", // Arabic-Indic digit one
        "",
        "' OR 1=1 --",
    ];

    private async Task AssertNothingStoredAsync(SqliteSnapshotStore store, string id)
    {
        Assert.Null(await store.GetAsync(id, CancellationToken.None));
        Assert.Equal(0L, this.folder.Sql("SELECT COUNT(*) FROM snapshots;"));
        Assert.Empty(this.folder.BlobFiles());
        Assert.Empty(this.folder.IncomingFiles());
    }
}
