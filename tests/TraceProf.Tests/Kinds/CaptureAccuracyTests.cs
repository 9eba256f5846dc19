using System.Diagnostics;
using System.Runtime.CompilerServices;
using TraceProf.Capture;
using TraceProf.Kinds.Threads;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Profiles;
using Xunit.Abstractions;

namespace TraceProf.Tests.Kinds;

/// <summary>The estimates of each capture kind against a workload whose truth is measured in the workload itself.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class CaptureAccuracyTests(ITestOutputHelper output)
{
    private static readonly TimeSpan CaptureLength = TimeSpan.FromSeconds(5);

    // Start the workload well after the session started and make it finish well before it stops,
    // so that the capture window holds all of the workload and nothing is cut at either end.
    private static readonly TimeSpan WorkloadDelay = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task Allocations_EstimateOfDistinctiveTypeIsWithin20Percent_AndItsMethodIsTopAllocator()
    {
        using var folder = new TempFolder();
        long trueBytes = 0;
        TimeSpan workloadEnd = default;
        var clock = Stopwatch.StartNew();
        var capture = new EventPipeCaptureSource().CaptureAsync(CaptureKind.Allocations, CaptureLength, folder.File("allocs.nettrace"), CancellationToken.None);
        var workload = Task.Factory.StartNew(
            () =>
            {
                Thread.Sleep(WorkloadDelay);
                trueBytes = AllocationWorkload.AllocateDistinctiveWidgets(3_000_000);
                workloadEnd = clock.Elapsed;
            },
            TaskCreationOptions.LongRunning);
        var result = await capture;
        await workload;
        Assert.True(workloadEnd < result.Duration, $"the workload ended at {workloadEnd}, after the capture ({result.Duration}); the machine is too slow for this test");

        var profile = ProfileParser.Parse(CaptureKind.Allocations, result.NettracePath, new ParseOptions { TempDirectory = folder.Path }, CancellationToken.None);
        Assert.Equal(WellKnownSampleTypes.AllocationProfile, profile.SampleTypes);
        Assert.Equal(1, profile.DefaultSampleTypeIndex);

        var widgetType = typeof(DistinctiveWidget).FullName!;
        var widgets = profile.Samples.Where(s => s.Labels.Contains(new ProfileLabel("object_type", widgetType))).ToList();
        Assert.NotEmpty(widgets);
        Assert.All(widgets, s => Assert.Equal(widgetType, profile.Frames[s.Stack[0]].FunctionName));
        var estimated = widgets.Sum(s => s.Values[1]);
        var error = (estimated - trueBytes) / (double)trueBytes;
        output.WriteLine($"allocated {trueBytes:N0} bytes of {widgetType}; estimated {estimated:N0} ({error:+0.0%;-0.0%}) from {widgets.Count} distinct samples");
        Assert.InRange(error, -0.2, 0.2);

        var topAllocator = profile.Samples
            .Where(s => s.Stack.Count > 1)
            .GroupBy(s => profile.Frames[s.Stack[1]].FunctionName)
            .OrderByDescending(g => g.Sum(s => s.Values[1]))
            .First().Key;
        Assert.Contains("AllocationWorkload.AllocateDistinctiveWidgets", topAllocator, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Contention_DistinctiveMethodIsTopContendedStack_AndDelayWithinFactorTwoOfMeasuredWait()
    {
        using var folder = new TempFolder();
        long measuredWaitTicks = 0;
        TimeSpan workloadEnd = default;
        var clock = Stopwatch.StartNew();
        var capture = new EventPipeCaptureSource().CaptureAsync(CaptureKind.Contention, CaptureLength, folder.File("contention.nettrace"), CancellationToken.None);
        var workload = Task.Factory.StartNew(
            () =>
            {
                Thread.Sleep(WorkloadDelay);
                measuredWaitTicks = ContentionWorkload.FightOverOneLock(threads: 4, rounds: 40);
                workloadEnd = clock.Elapsed;
            },
            TaskCreationOptions.LongRunning);
        var result = await capture;
        await workload;
        Assert.True(workloadEnd < result.Duration, $"the workload ended at {workloadEnd}, after the capture ({result.Duration}); the machine is too slow for this test");

        var profile = ProfileParser.Parse(CaptureKind.Contention, result.NettracePath, new ParseOptions { TempDirectory = folder.Path }, CancellationToken.None);
        Assert.Equal(WellKnownSampleTypes.ContentionProfile, profile.SampleTypes);
        const string method = "ContentionWorkload.TakeTheContendedLock";
        var contended = profile.Samples.Where(s => s.Stack.Any(f => profile.Frames[f].FunctionName.Contains(method, StringComparison.Ordinal))).ToList();
        Assert.NotEmpty(contended);
        var profiledDelay = TimeSpan.FromTicks(contended.Sum(s => s.Values[1]) / 100);
        var measuredWait = Stopwatch.GetElapsedTime(0, measuredWaitTicks);
        output.WriteLine($"measured wait {measuredWait.TotalMilliseconds:F0} ms; profiled delay {profiledDelay.TotalMilliseconds:F0} ms over {contended.Sum(s => s.Values[0])} contentions");
        Assert.InRange(profiledDelay.TotalMilliseconds, measuredWait.TotalMilliseconds / 2, measuredWait.TotalMilliseconds * 2);

        var topByDelay = profile.Samples
            .Where(s => s.Stack.Count > 0)
            .OrderByDescending(s => s.Values[1])
            .First();
        Assert.Contains(topByDelay.Stack, f => profile.Frames[f].FunctionName.Contains(method, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Threads_ParkedThreadAppearsWithItsFrameAndName()
    {
        using var folder = new TempFolder();
        using var parked = new ParkedThread("parked-thread");
        var result = await new EventPipeCaptureSource().CaptureAsync(CaptureKind.Threads, TimeSpan.FromMilliseconds(200), folder.File("threads.nettrace"), CancellationToken.None);
        var profile = ProfileParser.Parse(CaptureKind.Threads, result.NettracePath, new ParseOptions { TempDirectory = folder.Path, ThreadName = ThreadNames.OfThisProcess }, CancellationToken.None);

        Assert.Equal(WellKnownSampleTypes.ThreadsProfile, profile.SampleTypes);
        var threadIds = profile.Samples.Select(s => s.Labels.Single(l => l.Key == "thread_id").Value).ToList();
        Assert.Equal(threadIds.Count, threadIds.Distinct().Count());
        Assert.All(profile.Samples, s => Assert.Equal(1, s.Values[0]));
        var sample = Assert.Single(profile.Samples, s => s.Stack.Any(f => profile.Frames[f].FunctionName.Contains(ParkedThread.MethodName, StringComparison.Ordinal)));
        Assert.Contains(new ProfileLabel("thread_name", "parked-thread"), sample.Labels);
    }
}

public sealed class DistinctiveWidget
{
    public long A { get; set; }

    public long B { get; set; }

    public long C { get; set; }

    public long D { get; set; }
}

internal static class AllocationWorkload
{
    public static object? Sink;

    /// <summary>Allocates <paramref name="count"/> widgets and nothing else; returns the bytes this thread allocated.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static long AllocateDistinctiveWidgets(int count)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < count; i++)
        {
            Sink = new DistinctiveWidget { A = i };
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}

internal static class ContentionWorkload
{
    private static readonly Lock Gate = new();

    /// <summary>Threads take one lock in turns, holding it a few ms; returns the summed time they waited for it.</summary>
    public static long FightOverOneLock(int threads, int rounds)
    {
        long totalWait = 0;
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < rounds; i++)
            {
                Interlocked.Add(ref totalWait, TakeTheContendedLock());
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        return totalWait;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long TakeTheContendedLock()
    {
        var before = Stopwatch.GetTimestamp();
        lock (Gate)
        {
            var waited = Stopwatch.GetTimestamp() - before;
            Thread.Sleep(2);
            return waited;
        }
    }
}

internal sealed class ParkedThread : IDisposable
{
    public const string MethodName = "ParkedThread.ParkDistinctively";

    private readonly ManualResetEventSlim _release = new();
    private readonly ManualResetEventSlim _parked = new();
    private readonly Thread _thread;

    public ParkedThread(string name)
    {
        _thread = new Thread(ParkDistinctively) { IsBackground = true, Name = name };
        _thread.Start();
        _parked.Wait();
    }

    public void Dispose()
    {
        _release.Set();
        _thread.Join();
        _release.Dispose();
        _parked.Dispose();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ParkDistinctively()
    {
        _parked.Set();
        _release.Wait();
    }
}
