using System.Diagnostics;
using System.Runtime.CompilerServices;

// The names of these methods and types are what the flight recorder tests look for in profiles.
namespace TraceProf.AspNetCore.Tests.Triggers;

internal sealed class DistinctiveAllocation(int value)
{
    public int Value { get; } = value;

    public long Padding1 { get; set; }

    public long Padding2 { get; set; }
}

internal static class FlightRecorderWorkload
{
    private static readonly Lock Gate = new();

    public static double Sink;

    public static object? Kept;

    /// <summary>Another thread holds the lock for 200 ms; this one waits for it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void WaitForTheBusyLock()
    {
        using var held = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (Gate)
            {
                held.Set();
                Thread.Sleep(200);
            }
        });
        holder.Start();
        held.Wait();
        lock (Gate)
        {
            Sink++;
        }

        holder.Join();
    }

    /// <summary>Allocates about <paramref name="bytes"/> in objects of a type no other code has.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void AllocateDistinctively(long bytes)
    {
        var list = new List<DistinctiveAllocation>();
        for (long i = 0; i < bytes / 40; i++)
        {
            list.Add(new DistinctiveAllocation((int)i));
            if (list.Count == 10_000)
            {
                Kept = list;
                list = [];
            }
        }
    }

    /// <summary>CPU work in a method no other code has, for a given time.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static string ComputeDistinctiveChecksum(TimeSpan duration)
    {
        var x = 0.0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            for (var i = 1; i < 20_000; i++)
            {
                x += Math.Sqrt(i) / i;
            }
        }

        Sink = x;
        return x.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
