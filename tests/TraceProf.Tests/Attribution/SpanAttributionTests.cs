using System.Diagnostics;
using System.Runtime.CompilerServices;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Kinds;
using TraceProf.Kinds.Cpu;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Profiles;
using Xunit.Abstractions;

namespace TraceProf.Tests.Attribution;

/// <summary>Samples are joined to the span their thread worked for, across awaits and thread hops.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class SpanAttributionTests(ITestOutputHelper output)
{
    private static readonly (bool Available, string Reason) PerfAvailable = PerfEventCpuSampler.Probe();

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConcurrentSpans_HoppingThreads_SamplesCarryTheirOwnTraceId(bool perf)
    {
        Skip.If(perf && !PerfAvailable.Available, "perf_event is not available here: " + PerfAvailable.Reason);
        using var folder = new TempFolder();
        using var stop = new CancellationTokenSource();
        string traceA = "", traceB = "";
        Profile profile;
        using (TimelineRecorder.Start())
        {
            var from = Stopwatch.GetTimestamp();

            // Either sampler, the same join: the perf_event sampler's samples carry the same (OS thread, Stopwatch time).
            var perfSamples = perf ? new PerfCpuSamples() : null;
            var sampler = perf ? PerfEventCpuSampler.Start(new PerfSamplerSettings { Period = TimeSpan.FromMilliseconds(1) }, perfSamples!) : null;
            var capture = new EventPipeCaptureSource().CaptureAsync(perf ? KindCaptures.PerfCpuSession : KindCaptures.SessionOf(CaptureKind.Cpu), TimeSpan.FromSeconds(3), folder.File("spans.nettrace"), CancellationToken.None);
            var a = Task.Run(() => RunSpanAsync("request-a", id => traceA = id, SpanWork.BurnInMethodA, stop.Token));
            var b = Task.Run(() => RunSpanAsync("request-b", id => traceB = id, SpanWork.BurnInMethodB, stop.Token));
            var result = await capture;
            sampler?.Dispose();
            await stop.CancelAsync();
            await Task.WhenAll(a, b);
            var timeline = TimelineRecorder.Snapshot(from, Stopwatch.GetTimestamp());
            var options = new ParseOptions { TempDirectory = folder.Path };
            profile = perfSamples is not null
                ? perfSamples.Build(result.NettracePath, new PerfCpuFigures(sampler!.Period, sampler.LostSamples, sampler.ThreadsAttached, sampler.ThreadsFailed, sampler.ThreadsOverCap, NativeFrameNames.OfThisProcess()), result.StartedAt, result.Duration, options, new SampleAttributor(timeline), CancellationToken.None)
                : ProfileParser.Parse(CaptureKind.Cpu, result.NettracePath, options, new SampleAttributor(timeline), ProfileParser.CpuParser.Streaming, CancellationToken.None);
        }

        AssertAttributed(profile, "SpanWork.BurnInMethodA", SpanLabels.TraceId, traceA, traceB);
        AssertAttributed(profile, "SpanWork.BurnInMethodB", SpanLabels.TraceId, traceB, traceA);
        var routeless = LeafSamples(profile, "SpanWork.BurnInMethodA").First(s => Label(s, SpanLabels.TraceId) == traceA);
        Assert.NotNull(Label(routeless, SpanLabels.SpanId));
        Assert.NotNull(Label(routeless, SpanLabels.LocalRootSpanId));
    }

    [Fact]
    public async Task AppLabels_AreOnSamplesInsideTheScope_AndGoneAfterIt()
    {
        using var folder = new TempFolder();
        using var stop = new CancellationTokenSource();
        Profile profile;
        using (TimelineRecorder.Start())
        {
            var from = Stopwatch.GetTimestamp();
            var capture = new EventPipeCaptureSource().CaptureAsync(CaptureKind.Cpu, TimeSpan.FromSeconds(3), folder.File("labels.nettrace"), CancellationToken.None);
            var work = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    using (TraceProfLabels.Add("stage", "pricing"))
                    {
                        await Task.Yield();
                        SpanWork.BurnInsideLabelScope();
                        await Task.Delay(1);
                        SpanWork.BurnInsideLabelScope();
                    }

                    await Task.Yield();
                    SpanWork.BurnAfterLabelScope();
                }
            });
            var result = await capture;
            await stop.CancelAsync();
            await work;
            var timeline = TimelineRecorder.Snapshot(from, Stopwatch.GetTimestamp());
            profile = ProfileParser.Parse(CaptureKind.Cpu, result.NettracePath, new ParseOptions { TempDirectory = folder.Path }, new SampleAttributor(timeline), ProfileParser.CpuParser.Streaming, CancellationToken.None);
        }

        AssertAttributed(profile, "SpanWork.BurnInsideLabelScope", "stage", "pricing", other: null);
        var after = LeafSamples(profile, "SpanWork.BurnAfterLabelScope");
        var afterLabelled = after.Where(s => Label(s, "stage") == "pricing").Sum(s => s.Values[0]);
        var afterTotal = after.Sum(s => s.Values[0]);
        output.WriteLine($"after the scope: {afterLabelled} of {afterTotal} samples still labelled");
        Assert.True(afterTotal > 0);
        Assert.True(afterLabelled < afterTotal * 0.02, $"{afterLabelled} of {afterTotal} samples after the scope still carry stage=pricing");
    }

    [Fact]
    public void Labels_RejectReservedAndOverlongKeys_BoundTheirNumber()
    {
        Assert.Throws<ArgumentException>(() => TraceProfLabels.Add("trace_id", "x"));
        Assert.Throws<ArgumentException>(() => TraceProfLabels.Add(new string('k', TraceProfLabels.MaxKeyLength + 1), "x"));
        var scopes = Enumerable.Range(0, TraceProfLabels.MaxLabels + 3).Select(i => TraceProfLabels.Add($"k{i}", new string('v', 500))).ToList();
        var labels = TimelineRecorder.Resolve(null, TimelineRecorderAccess.CurrentLabels)!;
        Assert.Equal(TraceProfLabels.MaxLabels, labels.Length);
        Assert.All(labels, l => Assert.Equal(TraceProfLabels.MaxValueLength, l.Value.Length));
        for (var i = scopes.Count - 1; i >= 0; i--)
        {
            scopes[i].Dispose();
        }

        Assert.Null(TimelineRecorderAccess.CurrentLabels);
    }

    private static async Task RunSpanAsync(string name, Action<string> publishTraceId, Action burn, CancellationToken stop)
    {
        using var activity = new Activity(name).SetIdFormat(ActivityIdFormat.W3C).Start();
        publishTraceId(activity.TraceId.ToHexString());
        var round = 0;
        while (!stop.IsCancellationRequested)
        {
            burn();

            // Alternate the two ways a continuation lands on another pool thread.
            if (++round % 2 == 0)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(1, CancellationToken.None);
            }
        }
    }

    private void AssertAttributed(Profile profile, string leafMethod, string key, string expected, string? other)
    {
        var samples = LeafSamples(profile, leafMethod);
        var total = samples.Sum(s => s.Values[0]);
        var right = samples.Where(s => Label(s, key) == expected).Sum(s => s.Values[0]);
        var wrong = other is null ? 0 : samples.Where(s => Label(s, key) == other).Sum(s => s.Values[0]);
        output.WriteLine($"{leafMethod}: {right}/{total} samples carry {key}={expected} ({right * 100.0 / Math.Max(1, total):F1} %), {wrong} the other span's");
        Assert.True(total >= 20, $"only {total} samples in {leafMethod}");
        Assert.True(right >= total * 0.95, $"{right} of {total} samples in {leafMethod} carry {key}={expected}");
        Assert.True(wrong < total * 0.02, $"{wrong} of {total} samples in {leafMethod} carry the other span's {key}");
    }

    // Samples taken while the method was on the stack (in it or in what it called).
    private static List<ProfileSample> LeafSamples(Profile profile, string method) =>
        [.. profile.Samples.Where(s => s.Stack.Any(f => profile.Frames[f].FunctionName.Contains(method, StringComparison.Ordinal)))];

    private static string? Label(ProfileSample sample, string key) => sample.Labels.FirstOrDefault(l => l.Key == key).Value;
}

internal static class TimelineRecorderAccess
{
    public static LabelContext? CurrentLabels => TimelineRecorder.Labels;
}

internal static class SpanWork
{
    public static double Sink;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void BurnInMethodA() => Burn(3);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void BurnInMethodB() => Burn(3);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void BurnInsideLabelScope() => Burn(2);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void BurnAfterLabelScope() => Burn(2);

    // Inlined into each caller on purpose, so the caller is the leaf frame.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Burn(int milliseconds)
    {
        var until = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * milliseconds / 1000);
        var x = 0.0;
        while (Stopwatch.GetTimestamp() < until)
        {
            for (var i = 1; i < 1000; i++)
            {
                x += Math.Sqrt(i);
            }
        }

        Sink = x;
    }
}
