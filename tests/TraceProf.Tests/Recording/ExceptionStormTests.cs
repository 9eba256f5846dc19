using System.Diagnostics;
using System.Runtime.CompilerServices;
using TraceProf.Profiles;
using TraceProf.Recording;

namespace TraceProf.Tests.Recording;

/// <summary>
/// The flight recorder's exception session under a storm (issue 19): paused past the bound, stated in the cut, resumed
/// after the cooldown; and the reader's own sampling (1,000 a second in full, then 1 in 100). Real runtime, real
/// EventPipe sessions.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class ExceptionStormTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Storm_OverTheBound_PausesExceptionRecording_TheCutSaysSo_ThenItResumesAndRecordsALaterExceptionWithItsTrace()
    {
        await using var recorder = new FlightRecorder(new FlightRecorderOptions
        {
            Cpu = false,
            Contention = false,
            Exceptions = true,
            ExceptionStormPerSecond = 1000,
            ExceptionStormCooldown = TimeSpan.FromSeconds(1),
        });
        await recorder.StartAsync(CancellationToken.None);
        var exceptions = Assert.IsType<ExceptionRecording>(recorder.Exceptions);
        Assert.Equal(ExceptionRecordingState.Recording, exceptions.State);

        var from = Stopwatch.GetTimestamp();
        using (var stop = new CancellationTokenSource())
        {
            // Two threads throwing and catching as fast as they can: far over 1,000 a second on any machine.
            var storm = Enumerable.Range(0, 2).Select(_ => Task.Run(() => StormWork.ThrowUntilCancelled(stop.Token))).ToList();
            try
            {
                await WaitAsync(() => exceptions.State == ExceptionRecordingState.PausedStorm);
                var pausedAt = exceptions.Counted;
                await WaitAsync(() => exceptions.Counted > pausedAt + 10_000); // the storm goes on while paused
            }
            finally
            {
                await stop.CancelAsync();
                await Task.WhenAll(storm);
            }
        }

        var during = await recorder.CutAsync(from, Stopwatch.GetTimestamp(), traceId: null, CancellationToken.None);
        var profile = Assert.IsType<Profile>(during.Exceptions);
        var incomplete = Assert.Single(profile.Comments, c => c.Contains("INCOMPLETE", StringComparison.Ordinal));
        Assert.Contains("paused by the storm guard", incomplete, StringComparison.Ordinal);
        Assert.Contains("counted but not recorded", incomplete, StringComparison.Ordinal);
        Assert.True(exceptions.Pauses >= 1);
        Assert.True(recorder.GetStatistics().ExceptionStormPauses >= 1);
        Assert.True(exceptions.Counted > exceptions.Read, $"counted {exceptions.Counted}, the session read {exceptions.Read}");

        // Calm: the session starts again after the cooldown.
        await WaitAsync(() => exceptions.State == ExceptionRecordingState.Recording);
        Assert.True(exceptions.Resumes >= 1);
        var pause = Assert.Single(exceptions.PausesOverlapping(from, Stopwatch.GetTimestamp()).Where(p => p.To != 0).Take(1));
        Assert.True(pause.NotRecorded > 0);

        var after = Stopwatch.GetTimestamp();
        var traceId = await Task.Run(() =>
        {
            using var activity = new Activity("after-the-storm").SetIdFormat(ActivityIdFormat.W3C).Start();
            StormWork.ThrowAFewAfterTheStorm(5);
            return activity.TraceId;
        });

        // The exception session's events arrive when the runtime flushes it: cut until they are in.
        Profile? later = null;
        await WaitAsync(async () =>
        {
            later = (await recorder.CutAsync(after, Stopwatch.GetTimestamp(), traceId, CancellationToken.None)).Exceptions;
            return later is not null && OfType(later, nameof(AfterTheStormException)).Sum(s => s.Values[0]) == 5;
        });
        var ours = OfType(later!, nameof(AfterTheStormException)).ToList();
        Assert.All(ours, s => Assert.Contains(s.Labels, l => l.Key == "trace_id" && l.Value == traceId.ToHexString()));
        Assert.All(ours, s => Assert.Contains(s.Stack, f => later!.Frames[f].FunctionName.Contains(nameof(StormWork.ThrowAFewAfterTheStorm), StringComparison.Ordinal)));
        Assert.DoesNotContain(later!.Comments, c => c.Contains("INCOMPLETE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Burst_PastAThousandInASecond_IsRecordedInFullUpToAThousand_ThenSampledOneInAHundred_AndTheCutSaysSo()
    {
        const int Thrown = 3000;
        await using var recorder = new FlightRecorder(new FlightRecorderOptions
        {
            Cpu = false,
            Contention = false,
            Exceptions = true,
            ExceptionStormPerSecond = 0, // the guard never pauses: only the reader's sampling is under test
        });
        await recorder.StartAsync(CancellationToken.None);
        var from = Stopwatch.GetTimestamp();
        await Task.Run(() => StormWork.ThrowABurst(Thrown));

        Profile? profile = null;
        await WaitAsync(async () =>
        {
            profile = (await recorder.CutAsync(from, Stopwatch.GetTimestamp(), null, CancellationToken.None)).Exceptions;
            return recorder.Exceptions!.Read >= Thrown && profile is not null;
        });

        // A burst may straddle a second: each second keeps its first 1,000 one by one; past that one in 100 stands for
        // the 99 skipped before it, so at most 99 a second go uncounted.
        var samples = OfType(profile!, nameof(BurstException)).ToList();
        var represented = samples.Sum(s => s.Values[0]);
        Assert.InRange(represented, Thrown - (2 * 99), Thrown);
        Assert.True(recorder.Exceptions!.SampledOut >= Thrown - 2000 - (2 * 20), $"sampled out {recorder.Exceptions.SampledOut}");
        Assert.Contains(profile!.Comments, c => c.Contains("SAMPLED", StringComparison.Ordinal) && c.Contains("one in 100", StringComparison.Ordinal));
        Assert.DoesNotContain(profile!.Comments, c => c.Contains("INCOMPLETE", StringComparison.Ordinal));
    }

    private static IEnumerable<ProfileSample> OfType(Profile profile, string type) =>
        profile.Samples.Where(s => s.Stack.Count > 0 && profile.Frames[s.Stack[0]].FunctionName.Contains(type, StringComparison.Ordinal));

    private static Task WaitAsync(Func<bool> condition) => WaitAsync(() => Task.FromResult(condition()));

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.GetTimestamp();
        while (!await condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(deadline) < Patience, "condition not met in time");
            await Task.Delay(100);
        }
    }
}

/// <summary>Thrown by the storm; no other code throws it.</summary>
internal sealed class StormException : Exception
{
    public StormException()
        : base("storm")
    {
    }

    public StormException(string message)
        : base(message)
    {
    }

    public StormException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>Thrown after the storm, under a span.</summary>
internal sealed class AfterTheStormException : Exception
{
    public AfterTheStormException()
        : base("after")
    {
    }

    public AfterTheStormException(string message)
        : base(message)
    {
    }

    public AfterTheStormException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>Thrown by the burst.</summary>
internal sealed class BurstException : Exception
{
    public BurstException()
        : base("burst")
    {
    }

    public BurstException(string message)
        : base(message)
    {
    }

    public BurstException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

internal static class StormWork
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowUntilCancelled(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                throw new StormException();
            }
            catch (StormException)
            {
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowAFewAfterTheStorm(int count)
    {
        for (var i = 0; i < count; i++)
        {
            try
            {
                throw new AfterTheStormException();
            }
            catch (AfterTheStormException)
            {
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowABurst(int count)
    {
        for (var i = 0; i < count; i++)
        {
            try
            {
                throw new BurstException();
            }
            catch (BurstException)
            {
            }
        }
    }
}
