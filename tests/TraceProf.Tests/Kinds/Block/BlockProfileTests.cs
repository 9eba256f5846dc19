using System.Diagnostics;
using System.Runtime.CompilerServices;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Kinds.Block;
using TraceProf.Kinds.Threads;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Profiles;
using Xunit.Abstractions;

using TraceProf.Tests.Encoding;

namespace TraceProf.Tests.Kinds.Block;

/// <summary>A real <c>block</c> capture of this process: sync-over-async on pool and dedicated threads, and a contended lock.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class BlockProfileTests(BlockCapture capture, ITestOutputHelper output) : IClassFixture<BlockCapture>
{
    internal const string PoolMethod = "BlockWork.WaitOnThePoolSyncOverAsync";
    internal const string DedicatedMethod = "BlockWork.WaitOnADedicatedThread";
    internal const string LockMethod = "BlockWork.ContendForTheLock";
    internal const int Waiters = 3;
    internal const int Rounds = 3;

    [Fact]
    public void Block_SyncOverAsyncOnPoolThreads_IsChargedToTheWaitingMethod_AsMonitorWaitOnThePool_Within20Percent()
    {
        Assert.Equal(WellKnownSampleTypes.ContentionProfile, capture.Profile.SampleTypes);
        Assert.Equal(BlockProfileBuilder.DefaultSampleIndex, capture.Profile.DefaultSampleTypeIndex);
        var waits = Through(PoolMethod);
        Assert.NotEmpty(waits);
        Assert.All(waits, s => Assert.Equal("true", Label(s, BlockWaits.ThreadPoolLabel)));
        AssertDelayWithin20Percent(PoolMethod, waits.Where(s => Label(s, BlockWaits.WaitSourceLabel) == "monitor-wait"));
        Assert.Equal(Waiters * Rounds, waits.Where(s => Label(s, BlockWaits.WaitSourceLabel) == "monitor-wait").Sum(s => s.Values[0]));
    }

    [Fact]
    public void Block_SyncOverAsyncOnADedicatedThread_IsNotThreadPool_Within20Percent()
    {
        var waits = Through(DedicatedMethod);
        Assert.NotEmpty(waits);
        Assert.All(waits, s => Assert.Equal("false", Label(s, BlockWaits.ThreadPoolLabel)));
        AssertDelayWithin20Percent(DedicatedMethod, waits.Where(s => Label(s, BlockWaits.WaitSourceLabel) == "monitor-wait"));
    }

    [Fact]
    public void Block_LockContention_IsWaitSourceLock_AndNotCountedTwiceAsAWaitHandleWait()
    {
        var waits = Through(LockMethod);
        Assert.NotEmpty(waits);
        Assert.All(waits, s => Assert.Equal("lock", Label(s, BlockWaits.WaitSourceLabel)));
        var profiled = TimeSpan.FromTicks(waits.Sum(s => s.Values[1]) / 100);
        var measured = Stopwatch.GetElapsedTime(0, capture.MeasuredTicks[LockMethod]);
        output.WriteLine($"{LockMethod}: measured {measured.TotalMilliseconds:F0} ms; profiled {profiled.TotalMilliseconds:F0} ms over {waits.Sum(s => s.Values[0])} waits");
        Assert.InRange(profiled.TotalMilliseconds, measured.TotalMilliseconds * 0.5, measured.TotalMilliseconds * 1.2);
    }

    [Fact]
    public void Block_WaitInsideAnActivity_CarriesItsTraceId()
    {
        var waits = Through(PoolMethod).Where(s => Label(s, BlockWaits.WaitSourceLabel) == "monitor-wait").ToList();
        Assert.All(waits, s => Assert.Contains(Label(s, SpanLabels.TraceId), capture.PoolTraceIds));
        Assert.Equal(capture.PoolTraceIds.Order(StringComparer.Ordinal), waits.Select(s => Label(s, SpanLabels.TraceId)!).Distinct().Order(StringComparer.Ordinal));
        Assert.All(Through(DedicatedMethod), s => Assert.Null(Label(s, SpanLabels.TraceId)));
    }

    [Fact]
    public void Block_ThreadsThatWaitByDesign_AreLeftOut_AndCounted()
    {
        // The runtime's timer and pool gate wait all the time, and so does the capture's own drain thread (the thread
        // EventPipeCaptureSource starts to copy the session's stream to the file). TraceProf's work on pool threads
        // (starting and stopping the session) stays: it is work, and blocks a pool thread.
        string[] service = ["System.Threading.TimerQueue.TimerThread", "PortableThreadPool+GateThread.GateThreadStart", "TraceProf.Capture.EventPipeCaptureSource"];
        // Matched on the runtime's names (system names): display names join nested types with '.'.
        string RuntimeName(int f) => capture.Profile.Frames[f].SystemName is { Length: > 0 } system ? system : capture.Profile.Frames[f].FunctionName;
        var left = capture.Profile.Samples
            .Where(s => !s.Stack.Any(f => RuntimeName(f).StartsWith(BlockWaits.PoolWorkerStartMethod, StringComparison.Ordinal)))
            .SelectMany(s => s.Stack.TakeLast(4))
            .Select(RuntimeName)
            .Where(n => service.Any(m => n.Contains(m, StringComparison.Ordinal)))
            .Distinct()
            .ToList();
        Assert.True(left.Count == 0, string.Join("\n", left));
        Assert.Contains(capture.Profile.Comments, c => c.Contains("wait by design", StringComparison.Ordinal) && !c.StartsWith("0 ", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task GoToolPprof_SampleIndexDelay_ShowsTheWaitingMethods_AndTagfocusSeparatesTheSources()
    {
        Skip.If(GoPprof.Go is null, GoPprof.NoGo);
        var file = capture.Folder.File("block.pb.gz");
        await File.WriteAllBytesAsync(file, PprofEncoder.Encode(capture.Profile));

        var top = await GoPprof.RunAsync(capture.Folder.Path, file, "-sample_index=delay", "-top", "-cum");
        output.WriteLine(top);
        Assert.Contains("Type: delay", top, StringComparison.Ordinal);
        Assert.Contains(PoolMethod, top, StringComparison.Ordinal);
        Assert.Contains(DedicatedMethod, top, StringComparison.Ordinal);

        var locks = await GoPprof.RunAsync(capture.Folder.Path, file, "-sample_index=delay", "-top", "-cum", "-tagfocus=wait_source=lock");
        Assert.Contains(LockMethod, locks, StringComparison.Ordinal);
        Assert.DoesNotContain(DedicatedMethod, locks, StringComparison.Ordinal);
    }

    private List<ProfileSample> Through(string method) =>
        [.. capture.Profile.Samples.Where(s => s.Stack.Any(f => capture.Profile.Frames[f].FunctionName.Contains(method, StringComparison.Ordinal)))];

    private void AssertDelayWithin20Percent(string method, IEnumerable<ProfileSample> samples)
    {
        var list = samples.ToList();
        var profiled = TimeSpan.FromTicks(list.Sum(s => s.Values[1]) / 100);
        var measured = Stopwatch.GetElapsedTime(0, capture.MeasuredTicks[method]);
        var error = (profiled - measured) / measured;
        output.WriteLine($"{method}: measured {measured.TotalMilliseconds:F0} ms; profiled {profiled.TotalMilliseconds:F0} ms ({error:+0.0%;-0.0%}) over {list.Sum(s => s.Values[0])} waits");
        Assert.InRange(error, -0.2, 0.2);
    }

    private static string? Label(ProfileSample sample, string key) => sample.Labels.FirstOrDefault(l => l.Key == key).Value;
}

internal static class BlockWork
{
    /// <summary>Sync-over-async on whatever thread runs it; returns the Stopwatch ticks spent in the waits.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static long WaitOnThePoolSyncOverAsync(TimeSpan wait, int rounds) => WaitRounds(wait, rounds);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static long WaitOnADedicatedThread(TimeSpan wait, int rounds) => WaitRounds(wait, rounds);

    /// <summary>Takes the lock once; returns the Stopwatch ticks spent waiting for it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static long ContendForTheLock(object gate)
    {
        var before = Stopwatch.GetTimestamp();
        lock (gate)
        {
            return Stopwatch.GetTimestamp() - before;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long WaitRounds(TimeSpan wait, int rounds)
    {
        long ticks = 0;
        for (var i = 0; i < rounds; i++)
        {
            var before = Stopwatch.GetTimestamp();
            Task.Delay(wait).Wait();
            ticks += Stopwatch.GetTimestamp() - before;
        }

        return ticks;
    }
}

/// <summary>One block capture shared by the tests of <see cref="BlockProfileTests"/> (each asserts one property of it).</summary>
public sealed class BlockCapture : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan WaitLength = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan CaptureLength = TimeSpan.FromSeconds(5);

    // The workload starts well after the session and ends well before it stops, so no wait is cut at either end.
    private static readonly TimeSpan WorkloadDelay = TimeSpan.FromSeconds(1);

    internal TempFolder Folder { get; } = new();

    internal Dictionary<string, long> MeasuredTicks { get; } = [];

    internal List<string> PoolTraceIds { get; } = [];

    internal Profile Profile { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        TimeSpan workloadEnd = default;
        var clock = Stopwatch.StartNew();
        using (TimelineRecorder.Start())
        {
            var from = Stopwatch.GetTimestamp();
            var capture = new EventPipeCaptureSource().CaptureAsync(CaptureKind.Block, CaptureLength, Folder.File("block.nettrace"), CancellationToken.None);
            var workload = Task.Factory.StartNew(
                () =>
                {
                    Thread.Sleep(WorkloadDelay);
                    RunWorkload();
                    workloadEnd = clock.Elapsed;
                },
                TaskCreationOptions.LongRunning);
            var result = await capture;
            await workload;
            Assert.True(workloadEnd < result.Duration, $"the workload ended at {workloadEnd}, after the capture ({result.Duration}); the machine is too slow for this test");
            var timeline = TimelineRecorder.Snapshot(from, Stopwatch.GetTimestamp());
            var options = new ParseOptions { TempDirectory = Folder.Path, ThreadName = ThreadNames.OfThisProcess };
            Profile = ProfileParser.Parse(CaptureKind.Block, result.NettracePath, options, new SampleAttributor(timeline), ProfileParser.CpuParser.Streaming, CancellationToken.None);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => Folder.Dispose();

    private void RunWorkload()
    {
        long poolTicks = 0, dedicatedTicks = 0, lockTicks = 0;
        var gate = new object();
        using var holderReady = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            for (var i = 0; i < BlockProfileTests.Rounds; i++)
            {
                lock (gate)
                {
                    holderReady.Set();
                    Thread.Sleep(150);
                }

                Thread.Sleep(20);
            }
        }) { Name = "lock holder" };
        var contender = new Thread(() =>
        {
            holderReady.Wait();
            for (var i = 0; i < BlockProfileTests.Rounds; i++)
            {
                Interlocked.Add(ref lockTicks, BlockWork.ContendForTheLock(gate));
                Thread.Sleep(5);
            }
        }) { Name = "lock contender" };
        var dedicated = new Thread(() => dedicatedTicks = BlockWork.WaitOnADedicatedThread(WaitLength, BlockProfileTests.Rounds)) { Name = "dedicated waiter" };
        var pool = Enumerable.Range(0, BlockProfileTests.Waiters).Select(_ => Task.Run(() =>
        {
            using var activity = new Activity("blocked-request").SetIdFormat(ActivityIdFormat.W3C).Start();
            lock (PoolTraceIds)
            {
                PoolTraceIds.Add(activity.TraceId.ToHexString());
            }

            Interlocked.Add(ref poolTicks, BlockWork.WaitOnThePoolSyncOverAsync(WaitLength, BlockProfileTests.Rounds));
        })).ToArray();
        holder.Start();
        contender.Start();
        dedicated.Start();
        Task.WaitAll(pool);
        holder.Join();
        contender.Join();
        dedicated.Join();
        MeasuredTicks[BlockProfileTests.PoolMethod] = poolTicks;
        MeasuredTicks[BlockProfileTests.DedicatedMethod] = dedicatedTicks;
        MeasuredTicks[BlockProfileTests.LockMethod] = lockTicks;
    }
}
