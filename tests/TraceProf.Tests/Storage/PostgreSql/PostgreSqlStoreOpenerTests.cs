using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using TraceProf.Storage;

namespace TraceProf.Tests.Storage.PostgreSql;

/// <summary>
/// The PostgreSQL store behind the host's guard, against a real closed port on 127.0.0.1 (no server needed): the
/// start goes on, the store says why it is unavailable, and retries run on the injected clock.
/// </summary>
public sealed class PostgreSqlStoreOpenerTests : IDisposable
{
    private readonly StoreFolder folder = new();
    private readonly FakeTimeProvider time = new(DateTimeOffset.UtcNow);

    public void Dispose() => this.folder.Dispose();

    [Fact]
    public async Task UnreachableAtStart_StartCompletes_AddsAreRefusedAndTheirFilesDeleted_ReadsFindNothing()
    {
        int port = ClosedPort();
        using var guard = new SnapshotStoreGuard(this.Opener(port), this.time);
        await guard.StartAsync(CancellationToken.None);

        SnapshotStoreStatus status = guard.Health.Status(droppedSnapshots: 0);
        Assert.Equal(SnapshotStoreHealth.States.Unavailable, status.State);
        Assert.Equal($"127.0.0.1:{port}/traceprof", status.Location);
        Assert.Equal("TraceProf:Storage:ConnectionString", status.Setting);
        Assert.False(string.IsNullOrEmpty(status.Reason));
        Assert.Equal(this.time.GetUtcNow() + SnapshotStoreGuard.FirstRetryDelay, status.NextAttemptAt);

        var artifacts = this.folder.Artifacts();
        var refused = await Assert.ThrowsAsync<SnapshotStoreUnavailableException>(() => guard.AddAsync(Snapshots.New(), artifacts, CancellationToken.None));
        Assert.Contains($"127.0.0.1:{port}/traceprof", refused.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<InvalidOperationException>(refused); // the coordinator's retry-then-drop path
        Assert.Empty(this.folder.IncomingFiles());
        Assert.Empty(await guard.ListAsync(new SnapshotQuery(), CancellationToken.None));
        Assert.Null(await guard.GetAsync(Snapshots.New().Id, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => guard.GetAsync("not-an-id", CancellationToken.None));
    }

    [Fact]
    public async Task UnreachableAtStart_RetriesOnlyAsTheInjectedClockMoves_WithGrowingDelays()
    {
        using var guard = new SnapshotStoreGuard(this.Opener(ClosedPort()), this.time);
        await guard.StartAsync(CancellationToken.None);
        Assert.NotNull(guard.Retrying);

        // The clock stands still: however long we wait, no retry runs.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(1, guard.Health.Status(0).FailedAttempts);

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (guard.Health.Status(0).FailedAttempts < 3)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), "the retries did not run as the clock moved");
            this.time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50);
        }

        // After two failed retries the next wait is longer than the first (1 s, then 2 s, then 4 s …).
        SnapshotStoreStatus status = guard.Health.Status(0);
        Assert.Equal(SnapshotStoreHealth.States.Unavailable, status.State);
        Assert.True(status.NextAttemptAt - this.time.GetUtcNow() > SnapshotStoreGuard.FirstRetryDelay, $"next attempt at {status.NextAttemptAt}, now {this.time.GetUtcNow()}");
    }

    [Fact]
    public void MalformedConnectionString_IsAConfigurationError_BeforeAnyConnection()
    {
        var error = Assert.Throws<ArgumentException>(() => new PostgreSqlStoreOpener("Hots=db;;Frobnicate", this.folder.Options(), "TraceProf:Storage:ConnectionString"));
        Assert.Contains("connection string is not valid", error.Message, StringComparison.Ordinal);
    }

    private PostgreSqlStoreOpener Opener(int port) => new(
        $"Host=127.0.0.1;Port={port};Username=traceprof;Password=secret;Database=traceprof;Timeout=3;Pooling=false",
        this.folder.Options(),
        "TraceProf:Storage:ConnectionString",
        this.time);

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
