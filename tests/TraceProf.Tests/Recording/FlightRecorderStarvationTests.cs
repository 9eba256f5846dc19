using System.Diagnostics;
using TraceProf.Kinds.Heap;
using TraceProf.Parsing;
using TraceProf.Recording;
using Xunit.Abstractions;

namespace TraceProf.Tests.Recording;

/// <summary>
/// The recorder's own session reports the thread pool's injections for blocked workers (issue 14): workers of this
/// process's real pool blocked on purpose until the runtime injects threads, then released. In the EventPipe
/// collection, which runs alone, so that blocking the pool slows no other test.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class FlightRecorderStarvationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SyncOverAsyncOnEveryWorker_IsReportedAsAnInjectionForBlockedWorkers_AndALaterHeapSnapshotStillNamesTypes()
    {
        await using var recorder = new FlightRecorder(new FlightRecorderOptions { Cpu = false, Contention = true, ThreadPoolEvents = true });
        await recorder.StartAsync(CancellationToken.None);
        var seen = new List<ThreadPoolStarvationEventArgs>();
        recorder.PoolStarvation.Detected += (_, e) =>
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
            await WaitUntil(() => recorder.PoolStarvation.BlockingInjections + recorder.PoolStarvation.StarvationAdjustments >= 1, "the recorder's session reported no injection for blocked workers");
        }
        finally
        {
            release.SetResult();
        }

        await Task.WhenAll(blockers).WaitAsync(Patience);
        ThreadPoolStarvationEventArgs first;
        lock (seen)
        {
            first = seen[0];
        }

        Assert.Contains(first.Reason, new[] { ThreadAdjustmentReason.CooperativeBlocking, ThreadAdjustmentReason.Starvation });
        Assert.True(first.NewWorkerThreadCount > 0);
        Assert.True(first.Timestamp > 0 && first.Timestamp <= Stopwatch.GetTimestamp());
        Assert.True(first.Timestamp <= recorder.PoolStarvation.LastDetectedTimestamp);
        await AssertThePoolRecovers();
        output.WriteLine($"starvation {recorder.PoolStarvation.StarvationAdjustments}, blocking {recorder.PoolStarvation.BlockingInjections}, events {seen.Count}");

        // The Threading keyword on the recorder's session must not cost later heap snapshots their type names (an
        // in-process EventListener on the same provider did: docs/design-notes.md). Two in a row, as the heap test does.
        await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None);
        var second = await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None);
        var unnamed = second.Profile.Frames.Count(f => f.FunctionName.StartsWith("[type 0x", StringComparison.Ordinal));
        output.WriteLine($"second heap snapshot: {second.Profile.Frames.Count} frames, {unnamed} unnamed types");
        Assert.Equal(0, unnamed);
    }

    [Fact]
    public async Task WithoutThreadPoolEvents_NothingIsCounted_AndASecondHeapSnapshotUnderTheRecorderStillNamesTypes()
    {
        await using var recorder = new FlightRecorder(new FlightRecorderOptions { Cpu = false, Contention = true });
        await recorder.StartAsync(CancellationToken.None);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blockers = StartBlockers(() => release.Task.Wait());
        await Task.Factory.StartNew(() => Thread.Sleep(1500), TaskCreationOptions.LongRunning);
        release.SetResult();
        await Task.WhenAll(blockers).WaitAsync(Patience);
        Assert.Equal(0, recorder.PoolStarvation.BlockingInjections + recorder.PoolStarvation.StarvationAdjustments);
        await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None);
        var second = await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None);
        var unnamed = second.Profile.Frames.Count(f => f.FunctionName.StartsWith("[type 0x", StringComparison.Ordinal));
        output.WriteLine($"without thread-pool events: second heap snapshot: {second.Profile.Frames.Count} frames, {unnamed} unnamed types");

        // Any long-lived session on the runtime provider (the recorder, on by default) kept the runtime from sending
        // BulkType again: 1,514 of 1,540 types were unnamed before Kinds/Heap/LoggedTypes remembered earlier snapshots'.
        Assert.Equal(0, unnamed);
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
