using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using TraceProf.Profiles;
using TraceProf.Recording;

namespace TraceProf.Tests.Recording;

/// <summary>
/// The recorder's EventPipe CPU sampler armed only after a trigger (where perf_event is unavailable): real sessions;
/// the arming deadline runs on a fake clock, so disarming is a step of the test, not a wait.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class FlightRecorderArmedCpuTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ArmedCpu_NoSamplesUntilArmed_ThenTheHotMethod_ThenNoneOnceTheDeadlinePassed()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var recorder = new FlightRecorder(new FlightRecorderOptions { Contention = false, CpuArmedFor = TimeSpan.FromMinutes(5) }, timeProvider: clock);
        await recorder.StartAsync(CancellationToken.None);
        Assert.True(recorder.ArmsCpu);
        var armed = Assert.IsType<ArmedCpuSampling>(recorder.ArmedCpu);
        Assert.False(armed.IsArmed);

        using var hot = new HotLoop();

        // Disarmed: the recorder's own session has no sampler, so a second of a busy thread leaves no CPU sample.
        var quiet = await BurnAndCutAsync(recorder, TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(quiet.Samples, s => Names(quiet, s).Any(n => n.Contains(HotLoop.MethodName, StringComparison.Ordinal)));
        Assert.Contains(quiet.Comments, c => c.StartsWith("CPU NOT SAMPLED in this window", StringComparison.Ordinal));

        // A trigger arms it: the next window has the hot method, and says how much of it was sampled.
        await recorder.ArmCpuAsync("test:trigger", CancellationToken.None);
        Assert.True(armed.IsArmed);
        Assert.Equal(1, armed.Arms);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromMinutes(5), armed.ArmedUntil);
        var sampled = await BurnAndCutAsync(recorder, TimeSpan.FromSeconds(1));
        Assert.Contains(sampled.Samples, s => s.Stack.Count > 0 && sampled.Frames[s.Stack[0]].FunctionName.Contains(HotLoop.MethodName, StringComparison.Ordinal));
        Assert.Contains(sampled.Comments, c => c.StartsWith("CPU sampled for", StringComparison.Ordinal) && c.Contains("armed", StringComparison.Ordinal));

        // Armed again before the deadline: the same session, a later deadline.
        clock.Advance(TimeSpan.FromMinutes(4));
        await recorder.ArmCpuAsync("test:again", CancellationToken.None);
        Assert.Equal(1, armed.Arms);
        clock.Advance(TimeSpan.FromMinutes(4)); // 8 min after the first arming, 4 after the second: still armed
        Assert.True(armed.IsArmed);

        // Past the deadline it stops its session; a later window has no CPU samples again.
        clock.Advance(TimeSpan.FromMinutes(2));
        await WaitAsync(() => !armed.IsArmed);
        var after = await BurnAndCutAsync(recorder, TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(after.Samples, s => Names(after, s).Any(n => n.Contains(HotLoop.MethodName, StringComparison.Ordinal)));
        Assert.Contains(after.Comments, c => c.StartsWith("CPU NOT SAMPLED", StringComparison.Ordinal));

        // And a new trigger arms it anew.
        await recorder.ArmCpuAsync("test:next incident", CancellationToken.None);
        Assert.True(armed.IsArmed);
        Assert.Equal(2, armed.Arms);
    }

    [Fact]
    public async Task AlwaysOnCpu_HasNoArmedSampler_AndArmingDoesNothing()
    {
        await using var recorder = new FlightRecorder(new FlightRecorderOptions { Contention = false });
        await recorder.StartAsync(CancellationToken.None);
        Assert.False(recorder.ArmsCpu);
        Assert.Null(recorder.ArmedCpu);
        await recorder.ArmCpuAsync("test:trigger", CancellationToken.None); // a no-op

        using var hot = new HotLoop();
        var profile = await BurnAndCutAsync(recorder, TimeSpan.FromSeconds(1));
        Assert.Contains(profile.Samples, s => Names(profile, s).Any(n => n.Contains(HotLoop.MethodName, StringComparison.Ordinal)));
        Assert.DoesNotContain(profile.Comments, c => c.Contains("armed", StringComparison.Ordinal));
    }

    [Fact]
    public void ArmedFor_OutOfRange_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlightRecorder(new FlightRecorderOptions { CpuArmedFor = TimeSpan.FromMilliseconds(10) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlightRecorder(new FlightRecorderOptions { CpuArmedFor = TimeSpan.FromDays(2) }));
    }

    private static async Task<Profile> BurnAndCutAsync(FlightRecorder recorder, TimeSpan span)
    {
        var from = Stopwatch.GetTimestamp();
        await Task.Delay(span);
        var to = Stopwatch.GetTimestamp();

        // The session delivers on its own flush; without a sampler a window may carry no event at all.
        var waited = Stopwatch.StartNew();
        while (recorder.LatestTimestamp < to && waited.Elapsed < TimeSpan.FromSeconds(3))
        {
            await Task.Delay(20);
        }

        var slice = await recorder.CutAsync(from, to, traceId: null, CancellationToken.None);
        return Assert.IsType<Profile>(slice.Cpu);
    }

    private static IEnumerable<string> Names(Profile profile, ProfileSample sample) => sample.Stack.Select(f => profile.Frames[f].FunctionName);

    private static async Task WaitAsync(Func<bool> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < Patience, "Timed out waiting for the armed sampler.");
            await Task.Delay(20);
        }
    }
}
