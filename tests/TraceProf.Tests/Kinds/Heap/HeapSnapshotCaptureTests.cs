using TraceProf.Kinds;
using TraceProf.Kinds.Heap;
using static TraceProf.Tests.Kinds.Heap.HeapProfiles;

namespace TraceProf.Tests.Kinds.Heap;

/// <summary>Real heap snapshots of the test process.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class HeapSnapshotCaptureTests
{
    private const int N = 5_000;
    private static readonly string Order = typeof(LeakedOrder).FullName!;
    private static readonly string Bytes = "System.Byte[]";

    [Fact]
    public async Task HeapSnapshot_CountsLeakedObjectsExactly_WithTheirSizes_AndNamesWhatHoldsThem()
    {
        HeapLeaks.LeakOrders(N);
        var expected = HeapLeaks.Orders.Count;

        var snapshot = await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None);
        var profile = snapshot.Profile;
        var stats = snapshot.Stats;

        Assert.True(stats.DumpEnded, Describe(snapshot));
        Assert.True(stats.Complete || stats.ObjectsLostEstimate > 0, Describe(snapshot));
        var lost = stats.Complete ? 0 : stats.ObjectsLostEstimate;
        var orders = Leaf(profile, Order, Objects);
        Assert.InRange(orders, expected - lost, expected);

        // A LeakedOrder is header + method table + a reference + an int, 32 bytes on 64-bit; a byte[1000] is
        // header + method table + length (24 bytes) + 1000, rounded up to 8.
        if (IntPtr.Size == 8)
        {
            Assert.Equal(orders * 32, Leaf(profile, Order, Space));
            var arrays = profile.Samples.Where(s => profile.Frames[s.Stack[0]].FunctionName == Bytes && profile.Frames[s.Stack[1]].FunctionName == Order).ToArray();
            Assert.Equal(orders, arrays.Sum(s => s.Values[Objects]));
            Assert.Equal(orders * (24 + HeapLeaks.PayloadBytes), arrays.Sum(s => s.Values[Space]));
        }

        var path = Assert.Single(Paths(profile, Order));
        Assert.Equal(["[static]", $"System.Collections.Generic.List<{Order}>", $"{Order}[]", Order], path);
        Assert.Contains(profile.Samples, s => s.Labels.Contains(new(HeapProfileBuilder.ObjectTypeLabel, Order)));

        Assert.Equal(1, profile.DefaultSampleTypeIndex);
        Assert.Equal(["inuse_objects/count", "inuse_space/bytes"], profile.SampleTypes.Select(t => t.ToString()));
        Assert.Contains(profile.Comments, c => c.Contains("GC pause", StringComparison.Ordinal));
        Assert.Contains(profile.Comments, c => c.StartsWith("retention path: shortest path", StringComparison.Ordinal));
        Assert.Equal(stats.ObjectBytes, profile.Total(Space));
        Assert.Equal(stats.Objects, profile.Total(Objects));
        Assert.True(stats.GcPause > TimeSpan.Zero, Describe(snapshot));
    }

    [Fact]
    public async Task HeapDiff_ShowsTheGrowthOfALeak_AndNothingForAnUnchangedType()
    {
        HeapLeaks.Grow(N);
        var customers = typeof(StableCustomer).FullName!;
        var growing = typeof(GrowingOrder).FullName!;
        Assert.Equal(1000, HeapLeaks.Customers.Count);

        var before = await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None);
        HeapLeaks.Grow(N);
        var after = await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None);

        var diff = HeapProfileDiff.Subtract(before.Profile, after.Profile);
        Assert.True(before.Stats.Complete && after.Stats.Complete, Describe(before) + "\n" + Describe(after));
        Assert.Equal(N, Leaf(diff, growing, Objects));
        Assert.Equal(0, Leaf(diff, customers, Objects));
        Assert.Equal(1000, Leaf(after.Profile, customers, Objects));

        // The second snapshot names types as well as the first (the runtime logs each type once per session).
        Assert.DoesNotContain(after.Profile.Frames, f => f.FunctionName.StartsWith("[type 0x", StringComparison.Ordinal));
        Assert.StartsWith("heap diff:", diff.Comments[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeapSnapshot_DuringAnotherCapture_BothComplete()
    {
        // A flight recorder or an on-demand CPU capture may hold a session while a heap snapshot runs.
        using var folder = new TempFolder();
        HeapLeaks.LeakOrders(100);
        var cpu = new TraceProf.Capture.EventPipeCaptureSource().CaptureAsync(TraceProf.Kinds.CaptureKind.Cpu, TimeSpan.FromSeconds(2), folder.File("cpu.nettrace"), CancellationToken.None);
        var heap = await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None);
        var capture = await cpu;

        Assert.True(heap.Stats.Complete, Describe(heap));
        Assert.Equal(HeapLeaks.Orders.Count, Leaf(heap.Profile, Order, Objects));
        Assert.True(capture.Bytes > 0);
    }

    [Fact]
    public async Task HeapSnapshot_Timeout_StopsAndReleasesTheSession_SoTheNextSnapshotWorks()
    {
        var tooShort = new HeapSnapshotCapture(new HeapSnapshotOptions { Timeout = TimeSpan.FromTicks(1) });
        await Assert.ThrowsAsync<TimeoutException>(() => tooShort.CaptureAsync(CancellationToken.None));

        var next = await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None);
        Assert.True(next.Stats.Complete, Describe(next));
        Assert.True(next.Stats.Objects > 1000, Describe(next));
    }

    [Fact]
    public async Task HeapSnapshot_CancelledWhileRunning_StopsAndReleasesTheSession_SoTheNextSnapshotWorks()
    {
        using var cancel = new CancellationTokenSource();
        var capture = new HeapSnapshotCapture().CaptureAsync(cancel.Token);
        await cancel.CancelAsync();
        try
        {
            // Cancelled at whatever point it reached: while starting, while the GC runs, or (on a fast machine) done.
            await capture;
        }
        catch (OperationCanceledException)
        {
        }

        var next = await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None);
        Assert.True(next.Stats.Complete, Describe(next));
    }

    [Fact]
    public async Task HeapSnapshot_SecondAtTheSameTime_IsRefused_AndTheFirstCompletes()
    {
        var first = new HeapSnapshotCapture().CaptureAsync(CancellationToken.None);
        var second = new HeapSnapshotCapture().CaptureAsync(CancellationToken.None);

        // Whichever got there first runs; the other is refused at once (one may also finish before the other starts).
        var outcomes = await Task.WhenAll(Outcome(first), Outcome(second));
        Assert.Contains(outcomes, o => o is HeapSnapshot { Stats.Complete: true });
        Assert.All(outcomes, o => Assert.True(o is HeapSnapshot or HeapSnapshotInProgressException, o.ToString()));

        static async Task<object> Outcome(Task<HeapSnapshot> capture)
        {
            try
            {
                return await capture;
            }
            catch (HeapSnapshotInProgressException ex)
            {
                return ex;
            }
        }
    }

    [Fact]
    public async Task HeapSnapshot_HeapOverTheLimit_IsRefusedBeforeAnySession()
    {
        var capture = new HeapSnapshotCapture(new HeapSnapshotOptions { MaxHeapBytes = 1 });
        var refused = await Assert.ThrowsAsync<HeapTooLargeException>(() => capture.CaptureAsync(CancellationToken.None));
        Assert.Equal(1, refused.LimitBytes);
        Assert.True(refused.HeapBytes > 1);
    }

    [Fact]
    public async Task HeapSnapshot_OverTheObjectCap_KeepsTheCap_AndSaysHowManyAreMissing()
    {
        var snapshot = await new HeapSnapshotCapture(new HeapSnapshotOptions { MaxObjects = 1000 }).CaptureAsync(CancellationToken.None);
        Assert.Equal(1000, snapshot.Stats.Objects);
        Assert.True(snapshot.Stats.ObjectsOverCap > 0);
        Assert.False(snapshot.Stats.Complete);
        Assert.Contains(snapshot.Profile.Comments, c => c.StartsWith("INCOMPLETE", StringComparison.Ordinal) && c.Contains($"{snapshot.Stats.ObjectsOverCap} objects over the cap", StringComparison.Ordinal));
    }

    [Fact]
    public void BufferSize_FollowsTheHeap_WithinItsBounds()
    {
        Assert.Equal(HeapSnapshotOptions.MinBufferMegabytes, HeapSnapshotCapture.BufferMegabytesFor(10 << 20, 1024));
        Assert.InRange(HeapSnapshotCapture.BufferMegabytesFor(600L << 20, 1024), 600, 720);
        Assert.Equal(1024, HeapSnapshotCapture.BufferMegabytesFor(4L << 30, 1024));
    }
}
