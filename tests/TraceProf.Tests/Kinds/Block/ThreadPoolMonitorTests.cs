using System.Diagnostics;
using TraceProf.Kinds.Block;
using TraceProf.Parsing;
using Xunit.Abstractions;

namespace TraceProf.Tests.Kinds.Block;

/// <summary>
/// The thread-pool monitor against the real pool of this process: workers blocked on purpose until the runtime
/// injects threads for them, then released. In the EventPipe collection, which runs alone, so that blocking the
/// pool slows no other test.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class ThreadPoolMonitorTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SyncOverAsyncOnEveryWorker_IsSeenAsAnInjectionForBlockedWorkers_RaisesTheCallback_AndThePoolRecovers()
    {
        using var monitor = new ThreadPoolMonitor();
        var seen = new List<ThreadPoolStarvationEventArgs>();
        monitor.StarvationDetected += (_, e) =>
        {
            lock (seen)
            {
                seen.Add(e);
            }
        };
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Sync-over-async: each work item blocks its worker on a task only the test completes (Task.Wait). A plain app
        // on .NET 10 reports these injections as CooperativeBlocking; inside the xunit host they came as Starvation
        // (measured, both): either is the pool adding workers because its workers are blocked.
        var blockers = StartBlockers(() => release.Task.Wait());
        try
        {
            await WaitUntil(() => monitor.BlockingInjections + monitor.StarvationAdjustments >= 1, "the runtime reported no injection for blocked workers");
        }
        finally
        {
            release.SetResult();
        }

        await Task.WhenAll(blockers).WaitAsync(Patience);
        ThreadPoolStarvationEventArgs first;
        lock (seen)
        {
            first = Assert.Single(seen.Take(1));
        }

        Assert.Contains(first.Reason, new[] { ThreadAdjustmentReason.CooperativeBlocking, ThreadAdjustmentReason.Starvation });
        Assert.True(first.NewWorkerThreadCount > 0);
        await AssertThePoolRecovers();
        var state = monitor.GetState();
        output.WriteLine($"{state}; events {seen.Count}");
        Assert.True(state.BlockingInjections + state.StarvationAdjustments >= 1);
        Assert.NotNull(state.LastDetectedAt);
    }

    [Fact]
    public async Task WorkersBlockedUnbeknownToThePool_AreSeenAsStarvation()
    {
        using var monitor = new ThreadPoolMonitor();
        var starved = 0;
        monitor.StarvationDetected += (_, e) =>
        {
            if (e.Reason == ThreadAdjustmentReason.Starvation)
            {
                Interlocked.Increment(ref starved);
            }
        };
        var released = 0;

        // Thread.Sleep does not tell the pool its worker is blocked: only the gate thread's starvation check helps.
        var blockers = StartBlockers(() =>
        {
            while (Volatile.Read(ref released) == 0)
            {
                Thread.Sleep(10);
            }
        });
        try
        {
            await WaitUntil(() => monitor.StarvationAdjustments >= 1, "the runtime reported no Starvation adjustment");
        }
        finally
        {
            Volatile.Write(ref released, 1);
        }

        await Task.WhenAll(blockers).WaitAsync(Patience);
        Assert.True(Volatile.Read(ref starved) >= 1);
        await AssertThePoolRecovers();
        output.WriteLine(monitor.GetState().ToString());
    }

    [Fact]
    public void State_WhenIdle_IsThePoolsNow_AndDisposeTwiceIsHarmless()
    {
        var monitor = new ThreadPoolMonitor();
        var state = monitor.GetState();
        Assert.True(state.ThreadCount >= 0);
        Assert.True(state.CompletedWorkItemCount > 0, "this test process has run pool work before");
        Assert.True(state.PendingWorkItemCount >= 0);
        monitor.Dispose();
        monitor.Dispose();
    }

    /// <summary>More blocking work items than the pool has workers, so that some stay queued behind the blocked ones.</summary>
    private static Task[] StartBlockers(Action block)
    {
        ThreadPool.GetMinThreads(out var minWorkers, out _);
        var count = Math.Max(minWorkers, ThreadPool.ThreadCount) + 4;
        return [.. Enumerable.Range(0, count).Select(_ => Task.Run(block))];
    }

    private static async Task AssertThePoolRecovers()
    {
        // A dedicated thread waits, so that a still-starved pool cannot also delay the wait itself.
        var ran = Task.Run(() => 42);
        Assert.True(await Task.Factory.StartNew(() => ran.Wait(Patience), TaskCreationOptions.LongRunning), "a new work item did not run after the blockers were released");
    }

    private static async Task WaitUntil(Func<bool> condition, string failure)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < Patience, failure);
            await Task.Factory.StartNew(() => Thread.Sleep(50), TaskCreationOptions.LongRunning);
        }
    }
}
