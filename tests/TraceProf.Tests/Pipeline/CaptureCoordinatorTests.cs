using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Pipeline;
using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf.Tests.Pipeline;

/// <summary>The on-demand pipeline on its own: slots, one encode, store retries, clean-up — no ASP.NET Core.</summary>
[Collection("EventPipe")]
public sealed class CaptureCoordinatorTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public void TryAcquire_SameKindTwice_RefusesTheSecondWithARetryTime()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var store = NewStore(time);
        var coordinator = NewCoordinator(new EventPipeCaptureSource(time), store, time);

        Assert.True(coordinator.TryAcquire(CaptureKind.Cpu, TimeSpan.FromSeconds(30), out var lease, out _));
        Assert.False(coordinator.TryAcquire(CaptureKind.Cpu, TimeSpan.FromSeconds(30), out var refused, out var retryAfter));
        Assert.Null(refused);
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(33));

        time.Advance(TimeSpan.FromSeconds(20));
        Assert.False(coordinator.TryAcquire(CaptureKind.Cpu, TimeSpan.FromSeconds(30), out _, out var later));
        Assert.True(later < retryAfter, "the retry hint shrinks as the capture goes on");

        // Another kind has its own slot.
        Assert.True(coordinator.TryAcquire(CaptureKind.Contention, TimeSpan.FromSeconds(1), out var other, out _));
        other!.Dispose();

        lease!.Dispose();
        lease.Dispose(); // a second dispose must not free a slot someone else holds
        Assert.True(coordinator.TryAcquire(CaptureKind.Cpu, TimeSpan.FromSeconds(1), out var again, out _));
        lease.Dispose();
        Assert.False(coordinator.TryAcquire(CaptureKind.Cpu, TimeSpan.FromSeconds(1), out _, out _));
        again!.Dispose();
    }

    [Fact]
    [Trait("Category", "EventPipe")]
    public async Task CaptureAsync_StoresPprofAndNettrace_AndAnswersWithTheStoredBytes()
    {
        using var store = NewStore(TimeProvider.System);
        var coordinator = NewCoordinator(new EventPipeCaptureSource(), store, TimeProvider.System);
        var traceId = ActivityTraceId.CreateRandom();
        CaptureOutcome outcome;
        using (new HotLoop())
        {
            outcome = await coordinator.CaptureAsync(new CaptureRequest(CaptureKind.Cpu, TimeSpan.FromSeconds(1), traceId, default), CancellationToken.None);
        }

        Assert.True(outcome.Stored);
        Assert.Equal(traceId.ToHexString(), outcome.Snapshot.TraceId);
        Assert.Equal("cpu", outcome.Snapshot.Kind);
        Assert.True(outcome.Snapshot.NettraceBytes > 0);

        // One encode: the bytes the caller answers with are the stored artifact, byte for byte.
        await using (var stored = await store.OpenArtifactAsync(outcome.Snapshot.Id, SnapshotArtifact.Pprof, CancellationToken.None))
        {
            using var copy = new MemoryStream();
            await stored!.CopyToAsync(copy);
            Assert.Equal(outcome.Pprof.ToArray(), copy.ToArray());
        }

        var decoded = PprofDecoder.Decode(new MemoryStream(outcome.Pprof.ToArray()));
        Assert.Contains(decoded.Samples, s => s.Stack.Count > 0 && decoded.Frames[s.Stack[0]].FunctionName.Contains(HotLoop.MethodName, StringComparison.Ordinal));
        Assert.All(decoded.Samples, s => Assert.Contains(s.Labels, l => l.Key == "capture_trace_id" && l.Value == traceId.ToHexString()));
        Assert.Empty(Directory.GetFiles(TempDirectory));
    }

    [Fact]
    [Trait("Category", "EventPipe")]
    public async Task CaptureAsync_Cancelled_StoresNothingAndLeavesNoTemporaryFile()
    {
        using var store = NewStore(TimeProvider.System);
        var coordinator = NewCoordinator(new EventPipeCaptureSource(), store, TimeProvider.System);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            coordinator.CaptureAsync(new CaptureRequest(CaptureKind.Cpu, TimeSpan.FromSeconds(30), ActivityTraceId.CreateRandom(), default), cancel.Token));

        Assert.Empty(await store.ListAsync(new SnapshotQuery(), CancellationToken.None));
        Assert.Empty(Directory.GetFiles(TempDirectory));
    }

    [Fact]
    public async Task StoreProfileAsync_StoreKeepsFailing_DropsAfterThreeAttemptsAndCountsIt()
    {
        // A store outage cannot be caused on demand with a real database inside one test, so this store fails on
        // purpose; it is the only fake in these tests.
        var store = new FailingStore();
        var coordinator = NewCoordinator(new EventPipeCaptureSource(), store, TimeProvider.System);
        var profile = OneSampleProfile();

        var stored = await coordinator.StoreProfileAsync(Info("0123456789abcdef0123456789abcdef"), profile, CancellationToken.None);

        Assert.Null(stored);
        Assert.Equal(3, store.Attempts);
        Assert.Equal(1, coordinator.DroppedSnapshots);
        Assert.Empty(Directory.GetFiles(TempDirectory));
    }

    [Fact]
    public async Task StoreProfileAsync_StoresThePprofOfTheProfile_WithItsSampleCount()
    {
        using var store = NewStore(TimeProvider.System);
        var coordinator = NewCoordinator(new EventPipeCaptureSource(), store, TimeProvider.System);
        var profile = OneSampleProfile();

        var stored = await coordinator.StoreProfileAsync(Info("fedcba9876543210fedcba9876543210"), profile, CancellationToken.None);

        Assert.NotNull(stored);
        // One row of five sampler events: the count is the events, not the row.
        Assert.Equal(5, stored.SampleCount);
        await using var artifact = await store.OpenArtifactAsync(stored.Id, SnapshotArtifact.Pprof, CancellationToken.None);
        var decoded = PprofDecoder.Decode(artifact!);
        Assert.Equal("Shop.Checkout", decoded.Frames[decoded.Samples[0].Stack[0]].FunctionName);
        Assert.Null(await store.OpenArtifactAsync(stored.Id, SnapshotArtifact.Nettrace, CancellationToken.None));
    }

    public void Dispose() => _folder.Dispose();

    private string TempDirectory => _folder.File("tmp");

    private SqliteSnapshotStore NewStore(TimeProvider time) =>
        new(new SnapshotStoreOptions { Path = _folder.File("store") }, time);

    private CaptureCoordinator NewCoordinator(ICaptureSource source, ISnapshotStore store, TimeProvider time) =>
        new(source, store, new CaptureCoordinatorOptions { TempDirectory = TempDirectory, ServiceName = "tests" }, time);

    private static SnapshotInfo Info(string traceId) => new()
    {
        Id = SnapshotIds.NewId(TimeProvider.System),
        TraceId = traceId,
        Kind = "cpu",
        Trigger = "status:500",
        ServiceName = "tests",
        HostName = "host",
        StartedAt = DateTimeOffset.UtcNow,
        Duration = TimeSpan.FromSeconds(1),
    };

    private static Profile OneSampleProfile()
    {
        var builder = new ProfileBuilder([new SampleType("samples", "count")]);
        var frame = builder.InternFrame(new ProfileFrame("Shop.Checkout", "Shop"));
        builder.Add([frame], [5], [new ProfileLabel("thread_id", "1")]);
        return builder.Build();
    }

    private sealed class FailingStore : ISnapshotStore
    {
        public int Attempts { get; private set; }

        public Task<SnapshotInfo> AddAsync(SnapshotInfo info, IReadOnlyDictionary<SnapshotArtifact, string> artifacts, CancellationToken cancellationToken)
        {
            Attempts++;

            // A store takes its files over even when it fails (the contract the writer's copies are for).
            foreach (var path in artifacts.Values)
            {
                File.Delete(path);
            }

            throw new IOException("disk unavailable");
        }

        public Task<SnapshotInfo?> GetAsync(string id, CancellationToken cancellationToken) => Task.FromResult<SnapshotInfo?>(null);

        public Task<IReadOnlyList<SnapshotInfo>> ListAsync(SnapshotQuery query, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<SnapshotInfo>>([]);

        public Task<Stream?> OpenArtifactAsync(string id, SnapshotArtifact artifact, CancellationToken cancellationToken) => Task.FromResult<Stream?>(null);
    }
}
