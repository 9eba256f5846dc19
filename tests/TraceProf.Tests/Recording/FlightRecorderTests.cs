using System.Diagnostics;
using System.Runtime.CompilerServices;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Profiles;
using TraceProf.Recording;

namespace TraceProf.Tests.Recording;

/// <summary>The flight recorder's live session, cuts and bounds, without ASP.NET Core.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class FlightRecorderTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly (bool Available, string Reason) Perf = PerfEventCpuSampler.Probe();

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cut_SpanThatHoppedThreads_HasItsSamplesAsTraceScope_AndTheRestOfTheProcessAsProcessScope(bool perf)
    {
        Skip.If(perf && !Perf.Available, "perf_event is not available here: " + Perf.Reason);
        await using var recorder = new FlightRecorder(new FlightRecorderOptions { Contention = false, PerfSampler = perf ? new PerfSamplerSettings { Period = TimeSpan.FromMilliseconds(1) } : null });
        await recorder.StartAsync(CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var background = Task.Run(() => RecorderWork.BurnOutsideAnySpan(stop.Token));

        var from = Stopwatch.GetTimestamp();
        var traceId = await Task.Run(async () =>
        {
            using var activity = new Activity("failing-request").SetIdFormat(ActivityIdFormat.W3C).Start();
            for (var i = 0; i < 20; i++)
            {
                RecorderWork.BurnInsideTheSpan(TimeSpan.FromMilliseconds(40));
                await Task.Yield();
            }

            return activity.TraceId;
        });
        var to = Stopwatch.GetTimestamp();
        await stop.CancelAsync();
        await background;
        await WaitAsync(() => recorder.LatestTimestamp >= to);

        var slice = await recorder.CutAsync(from, to, traceId, CancellationToken.None);

        var cpu = Assert.IsType<Profile>(slice.Cpu);
        var inSpan = Leaves(cpu, nameof(RecorderWork.BurnInsideTheSpan));
        var outside = Leaves(cpu, nameof(RecorderWork.BurnOutsideAnySpan));
        Assert.NotEmpty(inSpan);
        Assert.NotEmpty(outside);
        Assert.All(inSpan, s => Assert.Equal("trace", Label(s, FlightRecorder.ScopeLabel)));
        Assert.All(inSpan, s => Assert.Equal(traceId.ToHexString(), Label(s, SpanLabels.TraceId)));
        Assert.All(outside, s => Assert.Equal("process", Label(s, FlightRecorder.ScopeLabel)));
        Assert.InRange(slice.TraceSamples, inSpan.Sum(s => s.Values[0]), cpu.Samples.Sum(s => s.Values[0]));
        Assert.True(cpu.Duration > TimeSpan.Zero);
        if (perf)
        {
            Assert.Equal(["samples/count", "cpu/nanoseconds"], cpu.SampleTypes.Select(t => t.ToString()));
            Assert.Contains(cpu.Comments, c => c.Contains("samples lost", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Recorder_BusyProcess_KeepsAtMostMaxSamplesInAFewSegments()
    {
        const int MaxSamples = 10_000;
        await using var recorder = new FlightRecorder(new FlightRecorderOptions { MaxSamples = MaxSamples, Window = TimeSpan.FromSeconds(30) });
        await recorder.StartAsync(CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 2).Select(_ => Task.Run(() => RecorderWork.BurnOutsideAnySpan(stop.Token))).ToList();
        try
        {
            await WaitAsync(() => recorder.GetStatistics().EventsRead > 2 * MaxSamples);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }

        var stats = recorder.GetStatistics();
        Assert.InRange(stats.RetainedSamples + stats.RetainedContentions, 1, MaxSamples);
        Assert.InRange(stats.Segments, 1, 7);
        Assert.True(stats.Methods > 1000, $"the start-up rundown named {stats.Methods} methods");
    }

    [Fact]
    public async Task Recorder_Disposed_StopsItsSessionAndRefusesASecondStart()
    {
        var recorder = new FlightRecorder(new FlightRecorderOptions());
        await recorder.StartAsync(CancellationToken.None);
        Assert.True(recorder.IsRunning);
        await Assert.ThrowsAsync<InvalidOperationException>(() => recorder.StartAsync(CancellationToken.None));

        await recorder.DisposeAsync();
        Assert.False(recorder.IsRunning);
        await recorder.DisposeAsync(); // twice is harmless
    }

    [Fact]
    public void Options_OutOfRange_AreRefusedWithTheirName()
    {
        Assert.Throws<ArgumentException>(() => new FlightRecorder(new FlightRecorderOptions { Cpu = false, Contention = false }));
        Assert.Equal("Window", Assert.Throws<ArgumentOutOfRangeException>(() => new FlightRecorder(new FlightRecorderOptions { Window = TimeSpan.FromHours(1) })).ParamName?.Split('.').Last());
        Assert.Equal("MaxSamples", Assert.Throws<ArgumentOutOfRangeException>(() => new FlightRecorder(new FlightRecorderOptions { MaxSamples = 10 })).ParamName?.Split('.').Last());
    }

    private static List<ProfileSample> Leaves(Profile profile, string method) =>
        [.. profile.Samples.Where(s => s.Stack.Count > 0 && profile.Frames[s.Stack[0]].FunctionName.Contains(method, StringComparison.Ordinal))];

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

internal static class RecorderWork
{
    public static double Sink;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void BurnInsideTheSpan(TimeSpan duration)
    {
        var x = 0.0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            for (var i = 1; i < 10_000; i++)
            {
                x += Math.Sqrt(i) * 1.0001;
            }
        }

        Sink = x;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void BurnOutsideAnySpan(CancellationToken stop)
    {
        var x = 0.0;
        while (!stop.IsCancellationRequested)
        {
            for (var i = 1; i < 10_000; i++)
            {
                x += Math.Cbrt(i) * 0.9999;
            }
        }

        Sink = x;
    }
}
