using System.Diagnostics;
using System.Globalization;
using TraceProf.Kinds.Heap;

namespace TraceProf.Benchmarks;

/// <summary>
/// What a heap snapshot costs at a given heap: the GC pause (runtime events, <see cref="GC.GetTotalPauseDuration"/>,
/// and the longest stall a sleeping heartbeat thread saw), total time, events lost, and TraceProf's memory (peak RSS
/// growth, managed allocations) — next to a plain blocking gen2 GC of the same heap.
/// Run: <c>dotnet run -c Release --project benchmarks/TraceProf.Benchmarks -- heap-snapshot &lt;items&gt; &lt;payload bytes&gt; [rounds] [hold seconds] [max buffer MB] [max objects]</c>;
/// each item is two objects (a 32-byte item and its byte array), so 50000 976 is ≈ 50 MB / 0.1 M objects,
/// 500000 944 ≈ 500 MB / 1 M, 5000000 48 ≈ 500 MB / 10 M. With hold seconds the process waits after its rounds
/// (printing its pid) so that <c>dotnet-gcdump collect -p</c> can be run on the same heap while the heartbeat watches.
/// </summary>
internal static class HeapSnapshotCost
{
    private static volatile bool s_stop;
    private static long s_maxGapTicks;

    public static int Run(string[] args)
    {
        var items = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50_000;
        var payload = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 976;
        var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3;
        var hold = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 0;
        var options = new HeapSnapshotOptions
        {
            MaxBufferMegabytes = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : HeapSnapshotOptions.DefaultMaxBufferMegabytes,
            MaxObjects = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : HeapSnapshotOptions.DefaultMaxObjects,
        };

        var heap = Build(items, payload);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var heartbeat = new Thread(Heartbeat) { IsBackground = true, Name = "heartbeat" };
        heartbeat.Start();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1e6:0.0} MB, {items * 2L / 1e6:0.00} M objects in the test structure; pid {Environment.ProcessId}"));

        for (var round = 0; round < rounds; round++)
        {
            // A plain blocking full GC of the same heap, for comparison.
            ResetPeak();
            var pause0 = GC.GetTotalPauseDuration();
            Interlocked.Exchange(ref s_maxGapTicks, 0);
            var sw = Stopwatch.StartNew();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
            var gcTime = sw.Elapsed;
            Thread.Sleep(50);
            var gcStall = Stall();
            var gcPause = GC.GetTotalPauseDuration() - pause0;

            var rss0 = Rss();
            ResetPeak();
            var allocated0 = GC.GetTotalAllocatedBytes(precise: true);
            Interlocked.Exchange(ref s_maxGapTicks, 0);
            var snapshot = new HeapSnapshotCapture(options).CaptureAsync(CancellationToken.None).GetAwaiter().GetResult();
            Thread.Sleep(50);
            var stall = Stall();
            var peak = PeakRss();
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;
            var s = snapshot.Stats;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"round {round}: plain gen2 GC {gcTime.TotalMilliseconds:0} ms (pause {gcPause.TotalMilliseconds:0.0} ms, stall {gcStall.TotalMilliseconds:0} ms) | snapshot total {s.Elapsed.TotalMilliseconds:0} ms, " +
                $"pause {s.GcPause.TotalMilliseconds:0.0} ms (events) / {s.TotalPauseDelta.TotalMilliseconds:0.0} ms (GetTotalPauseDuration) / stall {stall.TotalMilliseconds:0} ms (heartbeat), " +
                $"objects {s.Objects} ({s.ObjectBytes / 1e6:0.0} MB), refs {s.Edges}, roots {s.Roots}, unreachable {s.Unreachable}, lost node/edge/root events {s.NodeEventsLost}/{s.EdgeEventsLost}/{s.RootEventsLost} (≈{s.ObjectsLostEstimate} objects), complete {s.Complete}, " +
                $"buffer {s.BufferMegabytes} MB, stream {s.PayloadBytes / 1e6:0.0} MB in {s.Events} events, samples {snapshot.Profile.Samples.Count}, RSS peak +{(peak - rss0) / 1e6:0} MB, managed allocations {allocated / 1e6:0} MB"));
            var unreachable = snapshot.Profile.Samples
                .Where(x => snapshot.Profile.Frames[x.Stack[^1]].FunctionName == "[unreachable]")
                .OrderByDescending(x => x.Values[0]).Take(4)
                .Select(x => $"{snapshot.Profile.Frames[x.Stack[0]].FunctionName} ×{x.Values[0]}");
            Console.WriteLine($"  roots not in the dump {s.RootsNotInDump}; unreachable: {string.Join(", ", unreachable)}");
            foreach (var comment in snapshot.Profile.Comments.Where(c => c.StartsWith("INCOMPLETE", StringComparison.Ordinal) || c.StartsWith("heap:", StringComparison.Ordinal)))
            {
                Console.WriteLine("  " + comment);
            }
            snapshot = null;
            GC.Collect();
        }

        if (hold > 0)
        {
            Interlocked.Exchange(ref s_maxGapTicks, 0);
            Console.WriteLine($"holding {hold} s for dotnet-gcdump collect -p {Environment.ProcessId}");
            Console.Out.Flush();
            Thread.Sleep(TimeSpan.FromSeconds(hold));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"longest stall while holding: {Stall().TotalMilliseconds:0} ms"));
        }

        s_stop = true;
        GC.KeepAlive(heap);
        return 0;
    }

    private static BenchItem[] Build(int items, int payload)
    {
        var heap = new BenchItem[items];
        for (var i = 0; i < items; i++)
        {
            heap[i] = new BenchItem(i, new byte[payload]);
        }

        return heap;
    }

    // A thread that sleeps 1 ms at a time: the longest gap between its wake-ups is the longest time the runtime
    // kept it suspended (plus scheduling noise on a busy machine).
    private static void Heartbeat()
    {
        var last = Stopwatch.GetTimestamp();
        while (!s_stop)
        {
            Thread.Sleep(1);
            var now = Stopwatch.GetTimestamp();
            var gap = now - last;
            last = now;
            long seen;
            while (gap > (seen = Interlocked.Read(ref s_maxGapTicks)) && Interlocked.CompareExchange(ref s_maxGapTicks, gap, seen) != seen)
            {
            }
        }
    }

    private static TimeSpan Stall() => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref s_maxGapTicks));

    // Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS.
    private static void ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static long PeakRss() => Status("VmHWM:");

    private static long Rss() => Status("VmRSS:");

    private static long Status(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    private sealed class BenchItem(int id, byte[] data)
    {
        public int Id { get; } = id;

        public byte[] Data { get; } = data;
    }
}
