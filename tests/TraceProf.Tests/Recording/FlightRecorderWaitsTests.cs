using System.Diagnostics;
using System.Runtime.CompilerServices;
using TraceProf.Attribution;
using TraceProf.Kinds.Block;
using TraceProf.Profiles;
using TraceProf.Recording;
using Xunit.Abstractions;

namespace TraceProf.Tests.Recording;

/// <summary>With waits on, the flight recorder's cut has a block profile built by the block kind's own builder.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class FlightRecorderWaitsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Cut_RequestThatWaitedSyncOverAsync_HasABlockProfileWithItsMethod_OnThePool_InItsTrace()
    {
        await using var recorder = new FlightRecorder(new FlightRecorderOptions { Cpu = false, Contention = false, Waits = true });
        await recorder.StartAsync(CancellationToken.None);

        var from = Stopwatch.GetTimestamp();
        var (traceId, measuredTicks) = await Task.Run(() =>
        {
            using var activity = new Activity("slow-request").SetIdFormat(ActivityIdFormat.W3C).Start();
            var ticks = RecorderWaitWork.WaitSyncOverAsyncInTheRequest(TimeSpan.FromMilliseconds(150), rounds: 2);
            return (activity.TraceId, ticks);
        });
        var to = Stopwatch.GetTimestamp();
        await WaitAsync(() => recorder.LatestTimestamp >= to);

        // Each thread's events reach the reader in its own buffer's flush, so an event past `to` from one thread may
        // arrive before the request thread's last WaitStop (seen under load: the wait then counted as open at the cut,
        // charged up to the newest event read). Best effort: let the stream run a little past the request's end.
        var settled = Stopwatch.StartNew();
        while (recorder.LatestTimestamp < to + (Stopwatch.Frequency / 2) && settled.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(20);
        }

        var slice = await recorder.CutAsync(from, to, traceId, CancellationToken.None);

        Assert.Null(slice.Cpu);
        Assert.Null(slice.Contention);
        var block = Assert.IsType<Profile>(slice.Block);
        Assert.Equal(BlockProfileBuilder.SampleTypes, block.SampleTypes);
        var waits = block.Samples
            .Where(s => s.Stack.Any(f => block.Frames[f].FunctionName.Contains(nameof(RecorderWaitWork.WaitSyncOverAsyncInTheRequest), StringComparison.Ordinal)))
            .Where(s => Label(s, BlockWaits.WaitSourceLabel) == "monitor-wait")
            .ToList();
        Assert.NotEmpty(waits);
        Assert.All(waits, s => Assert.Equal("true", Label(s, BlockWaits.ThreadPoolLabel)));
        Assert.All(waits, s => Assert.Equal("trace", Label(s, FlightRecorder.ScopeLabel)));
        Assert.All(waits, s => Assert.Equal(traceId.ToHexString(), Label(s, SpanLabels.TraceId)));
        var profiled = TimeSpan.FromTicks(waits.Sum(s => s.Values[1]) / 100);
        var measured = Stopwatch.GetElapsedTime(0, measuredTicks);
        output.WriteLine($"measured {measured.TotalMilliseconds:F0} ms; profiled {profiled.TotalMilliseconds:F0} ms over {waits.Sum(s => s.Values[0])} waits; {string.Join(" | ", block.Comments)}");
        Assert.Equal(2, waits.Sum(s => s.Values[0]));
        Assert.InRange(profiled.TotalMilliseconds, measured.TotalMilliseconds * 0.8, measured.TotalMilliseconds * 1.2);
    }

    [Fact]
    public async Task Cut_WhileARequestIsStillBlocked_ChargesItsOpenWaitUpToTheCut()
    {
        await using var recorder = new FlightRecorder(new FlightRecorderOptions { Cpu = false, Contention = false, Waits = true });
        await recorder.StartAsync(CancellationToken.None);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource<ActivityTraceId>(TaskCreationOptions.RunContinuationsAsynchronously);

        var from = Stopwatch.GetTimestamp();
        var stuck = Task.Run(() =>
        {
            using var activity = new Activity("stuck-request").SetIdFormat(ActivityIdFormat.W3C).Start();
            started.SetResult(activity.TraceId);
            RecorderWaitWork.StayBlockedUntilReleased(release.Task);
        });
        var traceId = await started.Task;
        Profile block;
        TimeSpan cutSpan;
        try
        {
            await Task.Delay(400);
            var to = Stopwatch.GetTimestamp();
            cutSpan = Stopwatch.GetElapsedTime(from, to);
            await WaitAsync(() => recorder.LatestTimestamp >= to);
            block = Assert.IsType<Profile>((await recorder.CutAsync(from, to, traceId, CancellationToken.None)).Block);
        }
        finally
        {
            release.SetResult();
        }

        await stuck;
        var waits = block.Samples
            .Where(s => s.Stack.Any(f => block.Frames[f].FunctionName.Contains(nameof(RecorderWaitWork.StayBlockedUntilReleased), StringComparison.Ordinal)))
            .Where(s => Label(s, BlockWaits.WaitSourceLabel) == "monitor-wait")
            .ToList();
        var wait = Assert.Single(waits);
        Assert.Equal(traceId.ToHexString(), Label(wait, SpanLabels.TraceId));
        Assert.Equal("true", Label(wait, BlockWaits.ThreadPoolLabel));
        var delay = TimeSpan.FromTicks(wait.Values[1] / 100);
        output.WriteLine($"open wait charged {delay.TotalMilliseconds:F0} ms of a {cutSpan.TotalMilliseconds:F0} ms cut; {string.Join(" | ", block.Comments)}");
        Assert.InRange(delay, TimeSpan.FromMilliseconds(200), cutSpan);
    }

    [Fact]
    public void Options_WaitsAlone_AreEnough()
    {
        var recorder = new FlightRecorder(new FlightRecorderOptions { Cpu = false, Contention = false, Waits = true });
        Assert.True(recorder.Options.Waits);
        Assert.Throws<ArgumentException>(() => new FlightRecorder(new FlightRecorderOptions { Cpu = false, Contention = false, Waits = false }));
    }

    private static string? Label(ProfileSample sample, string key) => sample.Labels.FirstOrDefault(l => l.Key == key).Value;

    private static async Task WaitAsync(Func<bool> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < Patience, "Timed out waiting for the recorder.");
            await Task.Delay(20);
        }
    }
}

internal static class RecorderWaitWork
{
    /// <summary>Sync-over-async on a task only the test completes.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void StayBlockedUntilReleased(Task release) => release.Wait();

    /// <summary>Sync-over-async in a request; returns the Stopwatch ticks spent in the waits.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static long WaitSyncOverAsyncInTheRequest(TimeSpan wait, int rounds)
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
