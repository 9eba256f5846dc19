using System.Diagnostics;
using TraceProf.Recording;

namespace TraceProf.Tests.Recording;

/// <summary>The storm guard's decisions from readings of the exception count (no runtime: the readings are given).</summary>
public sealed class ExceptionStormGuardTests
{
    private static readonly long Second = Stopwatch.Frequency;

    [Fact]
    public void Guard_RateUnderTheBound_NeverPauses()
    {
        var guard = new ExceptionStormGuard(5000, TimeSpan.FromSeconds(10));
        long count = 0;
        for (var t = 1; t <= 60; t++)
        {
            count += 4999;
            Assert.Equal(StormDecision.None, guard.Observe(count, t * Second));
        }

        Assert.False(guard.Paused);
    }

    [Fact]
    public void Guard_StormThenCalm_PausesAtOnce_AndResumesOnlyAfterTheCooldownUnderTheBound()
    {
        var guard = new ExceptionStormGuard(5000, TimeSpan.FromSeconds(10));
        Assert.Equal(StormDecision.None, guard.Observe(0, 1 * Second));
        Assert.Equal(StormDecision.Pause, guard.Observe(200_000, 2 * Second));
        Assert.True(guard.Paused);
        Assert.Equal(200_000, guard.PeakRate, 3);

        // Still stormy: stays paused however long.
        var count = 200_000L;
        for (var t = 3; t <= 20; t++)
        {
            count += 100_000;
            Assert.Equal(StormDecision.None, guard.Observe(count, t * Second));
        }

        // Calm from t = 20 on: nothing before ten seconds of calm, a resume at ten.
        for (var t = 21; t < 30; t++)
        {
            count += 10;
            Assert.Equal(StormDecision.None, guard.Observe(count, t * Second));
        }

        Assert.Equal(StormDecision.Resume, guard.Observe(count + 10, 30 * Second));
        Assert.False(guard.Paused);
    }

    [Fact]
    public void Guard_StormBackSoonAfterAResume_DoublesTheCooldown_UpToItsCap()
    {
        var cooldown = TimeSpan.FromSeconds(1);
        var guard = new ExceptionStormGuard(1000, cooldown);
        long count = 0, t = 0;
        guard.Observe(count, t);
        for (var round = 0; round < 8; round++)
        {
            t += Second;
            count += 100_000;
            Assert.Equal(StormDecision.Pause, guard.Observe(count, t));
            while (true)
            {
                t += Second;
                if (guard.Observe(count, t) == StormDecision.Resume)
                {
                    break;
                }
            }
        }

        Assert.Equal(cooldown * ExceptionStormGuard.MaxCooldownFactor, guard.Cooldown);

        // A storm long after the last resume starts from the configured cooldown again.
        t += 3600 * Second;
        guard.Observe(count, t);
        Assert.Equal(StormDecision.Pause, guard.Observe(count + 100_000, t + Second));
        Assert.Equal(cooldown, guard.Cooldown);
    }

    [Fact]
    public void Guard_BoundZero_NeverPauses()
    {
        var guard = new ExceptionStormGuard(0, TimeSpan.FromSeconds(1));
        guard.Observe(0, Second);
        Assert.Equal(StormDecision.None, guard.Observe(10_000_000, 2 * Second));
    }
}
