using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using TraceProf.AspNetCore.Triggers;

namespace TraceProf.AspNetCore.Tests.Triggers;

/// <summary>The runtime triggers' decisions from synthetic meter readings, with a fake clock for the cooldown.</summary>
public sealed class RuntimeTriggerEvaluatorTests
{
    private static readonly long Second = Stopwatch.Frequency;

    [Fact]
    public void Cpu_OverTheThresholdForAFullWindow_FiresOnce_ThenWaitsItsCooldown_ThenFiresAgain()
    {
        var time = new FakeTimeProvider();
        var evaluator = new RuntimeTriggerEvaluator(new TraceProfRuntimeTriggerOptions { CpuPercent = 50, CpuWindowSeconds = 3, TriggerCooldownMinutes = 10 }, processorCount: 2, time);

        // 1.5 CPU-seconds per second on 2 cores = 75 %.
        var fired = new List<string>();
        for (var i = 0; i <= 10; i++)
        {
            fired.AddRange(evaluator.Add(new RuntimeReading(i * Second, i * 1.5, 0, 0)).Select(f => f.Trigger));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(["cpu:75%"], fired);
        Assert.Equal(7, evaluator.CooledDown);
        Assert.Equal(75, evaluator.Last!.Value.CpuPercent, precision: 6);

        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(["cpu:75%"], evaluator.Add(new RuntimeReading(11 * Second, 11 * 1.5, 0, 0)).Select(f => f.Trigger));
    }

    [Fact]
    public void Cpu_BeforeAFullWindow_DoesNotFire()
    {
        var evaluator = new RuntimeTriggerEvaluator(new TraceProfRuntimeTriggerOptions { CpuPercent = 80, CpuWindowSeconds = 5 }, processorCount: 2, new FakeTimeProvider());
        for (var i = 0; i <= 4; i++)
        {
            Assert.Empty(evaluator.Add(new RuntimeReading(i * Second, i * 2.0, 0, 0))); // 100 %, but 4 s of a 5 s window
        }

        Assert.Null(evaluator.Last);
    }

    [Fact]
    public void Cpu_UnderTheThreshold_NeverFires_AndKeepsOneWindowOfReadings()
    {
        var evaluator = new RuntimeTriggerEvaluator(new TraceProfRuntimeTriggerOptions { CpuPercent = 80, CpuWindowSeconds = 5 }, processorCount: 2, new FakeTimeProvider());
        for (var i = 0; i <= 1000; i++)
        {
            Assert.Empty(evaluator.Add(new RuntimeReading(i * Second, i * 1.0, 0, 0))); // 50 %
        }

        Assert.InRange(evaluator.Last!.Value.CpuPercent, 49.9, 50.1);
        Assert.Equal(1001, evaluator.Evaluations);
    }

    [Fact]
    public void QueueLength_FiresOnlyWhenEveryReadingOfTheWindowIsOverIt()
    {
        var evaluator = new RuntimeTriggerEvaluator(new TraceProfRuntimeTriggerOptions { ThreadPoolQueueLength = 100, CpuWindowSeconds = 3 }, processorCount: 2, new FakeTimeProvider());
        long[] queue = [500, 500, 500, 20, 500, 500, 500, 300];
        var fired = new List<string>();
        for (var i = 0; i < queue.Length; i++)
        {
            fired.AddRange(evaluator.Add(new RuntimeReading(i * Second, 0, 0, queue[i])).Select(f => f.Trigger));
        }

        // A window is (start, end]: those ending at 3, 4 and 5 s hold the dip to 20; the one ending at 6 s is the first
        // without it; at 7 s the trigger is in its cooldown.
        Assert.Equal(["threadpool-queue:500"], fired);
        Assert.Equal(1, evaluator.CooledDown);
    }

    [Fact]
    public void GcPause_ShareOfWallTime_FiresWithItsPercent_IndependentlyOfCpu()
    {
        var evaluator = new RuntimeTriggerEvaluator(new TraceProfRuntimeTriggerOptions { GcPausePercent = 10, CpuPercent = 90, CpuWindowSeconds = 2 }, processorCount: 4, new FakeTimeProvider());
        var fired = new List<string>();
        for (var i = 0; i <= 2; i++)
        {
            fired.AddRange(evaluator.Add(new RuntimeReading(i * Second, i * 0.5, i * 0.25, 0)).Select(f => f.Trigger));
        }

        Assert.Equal(["gc-pause:25%"], fired);
    }
}
