using System.Diagnostics;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Kinds.Cpu;
using TraceProf.Kinds;
using TraceProf.Parsing.Streaming;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Profiles;
using Xunit.Abstractions;

namespace TraceProf.Tests.Kinds.Cpu;

/// <summary>The streaming CPU parser gives the TraceLog path's profile on the same real capture.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class StreamingCpuProfileParserTests(StreamingCpuProfileParserTests.Capture capture, ITestOutputHelper output)
    : IClassFixture<StreamingCpuProfileParserTests.Capture>
{
    [Fact]
    public void Streaming_SameCaptureAsTraceLog_SameTopLeavesTotalsAndThreads()
    {
        var traceLog = Parse(ProfileParser.CpuParser.TraceLog, timeline: null);
        var streaming = Parse(ProfileParser.CpuParser.Streaming, timeline: null);

        var expectedTop = TopLeavesByCpu(traceLog, 5);
        var actualTop = TopLeavesByCpu(streaming, 5);
        output.WriteLine("TraceLog:  " + string.Join(" | ", expectedTop));
        output.WriteLine("Streaming: " + string.Join(" | ", actualTop));
        Assert.Equal(expectedTop, actualTop);
        // The hot loop is near the top; on a busy machine idle pool threads parked in a managed wait can outrank it,
        // which is why the order itself is compared between the parsers, not against a fixed answer.
        Assert.Contains(actualTop.Take(2), leaf => leaf.StartsWith("TraceProf.Tests.EngineHotLoop.BurnCpuDistinctively", StringComparison.Ordinal));

        for (var i = 0; i < 3; i++)
        {
            Assert.True(traceLog.Total(i) > 0);
            Assert.InRange(streaming.Total(i), traceLog.Total(i) * 0.99, traceLog.Total(i) * 1.01);
        }

        Assert.Equal(ThreadIds(traceLog), ThreadIds(streaming));
        Assert.Equal(traceLog.Period, streaming.Period);
        Assert.DoesNotContain(streaming.Frames, f => f.FunctionName.Contains("PollGCWorker", StringComparison.Ordinal));
        Assert.All(streaming.Samples, s => Assert.Contains(new ProfileLabel("capture_trace_id", "abc"), s.Labels));
    }

    [Fact]
    public void Streaming_WithTimeline_SameSpanLabelsAsTraceLog()
    {
        var threads = ThreadIds(Parse(ProfileParser.CpuParser.TraceLog, timeline: null));
        ProfileLabel[] early = [new("span", "early")];
        ProfileLabel[] late = [new("span", "late")];
        var timeline = new SpanTimeline(threads.ToDictionary(
            int.Parse,
            _ => (IReadOnlyList<(long, ProfileLabel[]?)>)[(capture.Started, early), (capture.Middle, late)]));

        var traceLog = SpanTotals(Parse(ProfileParser.CpuParser.TraceLog, timeline));
        var streaming = SpanTotals(Parse(ProfileParser.CpuParser.Streaming, timeline));

        Assert.Contains("early", traceLog.Keys);
        Assert.Contains("late", traceLog.Keys);
        Assert.Equal(traceLog.Keys.Order(), streaming.Keys.Order());
        foreach (var (span, wall) in traceLog)
        {
            Assert.InRange(streaming[span], wall * 0.99, wall * 1.01);
        }
    }

    [Fact]
    public void Streaming_TruncatedCapture_ThrowsInvalidDataException()
    {
        var bytes = File.ReadAllBytes(capture.NettracePath);
        var truncated = Path.Combine(capture.Folder.Path, "truncated.nettrace");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        Assert.Throws<InvalidDataException>(() => StreamingCpuProfileParser.Parse(truncated, new ParseOptions(), SampleAttributor.WithoutSpans(), CancellationToken.None));
    }

    private Profile Parse(ProfileParser.CpuParser parser, SpanTimeline? timeline) => ProfileParser.Parse(
        CaptureKind.Cpu,
        capture.NettracePath,
        new ParseOptions { TempDirectory = capture.Folder.Path },
        new SampleAttributor(timeline, [new ProfileLabel("capture_trace_id", "abc")]),
        parser,
        CancellationToken.None);

    private static List<string> TopLeavesByCpu(Profile profile, int count) => [.. profile.Samples
        .Where(s => s.Stack.Count > 0 && s.Values[1] > 0)
        .GroupBy(s => profile.Frames[s.Stack[0]].FunctionName)
        .Select(g => (Name: g.Key, Cpu: g.Sum(s => s.Values[1])))
        .OrderByDescending(x => x.Cpu)
        .ThenBy(x => x.Name, StringComparer.Ordinal)
        .Take(count)
        .Select(x => x.Name)];

    private static SortedSet<string> ThreadIds(Profile profile) =>
        new(profile.Samples.Select(s => s.Labels.Single(l => l.Key == "thread_id").Value), StringComparer.Ordinal);

    private static Dictionary<string, long> SpanTotals(Profile profile) => profile.Samples
        .GroupBy(s => s.Labels.Where(l => l.Key == "span").Select(l => l.Value).FirstOrDefault() ?? "none")
        .ToDictionary(g => g.Key, g => g.Sum(s => s.Values[2]));

    /// <summary>
    /// One real capture for the class: a hot method on its own thread for 2 s, plus thread-pool work items that
    /// burn a little and wait, so the profile has several threads and stacks.
    /// </summary>
    public sealed class Capture : IDisposable
    {
        public Capture()
        {
            Folder = new TempFolder();
            using var stop = new CancellationTokenSource();
            Started = Stopwatch.GetTimestamp();
            var pool = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    PoolWork.BurnBriefly();
                    await Task.Delay(5).ConfigureAwait(false);
                }
            })).ToArray();
            using (new HotLoop())
            {
                var result = new EventPipeCaptureSource().CaptureAsync(CaptureKind.Cpu, TimeSpan.FromSeconds(2), Folder.File("cpu.nettrace"), CancellationToken.None);
                Thread.Sleep(1000);
                Middle = Stopwatch.GetTimestamp();
                NettracePath = result.GetAwaiter().GetResult().NettracePath;
            }

            stop.Cancel();
            Task.WaitAll(pool);
        }

        public TempFolder Folder { get; }

        public string NettracePath { get; }

        public long Started { get; }

        public long Middle { get; }

        public void Dispose() => Folder.Dispose();
    }
}

internal static class PoolWork
{
    public static double Sink;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static void BurnBriefly()
    {
        var x = 0.0;
        for (var i = 1; i < 20_000; i++)
        {
            x += Math.Sqrt(i);
        }

        Sink = x;
    }
}
