using System.Diagnostics;
using System.Runtime.CompilerServices;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Profiles;

namespace TraceProf.Tests.Kinds.Exceptions;

/// <summary>A real exceptions capture: every throw counted once, its type as the leaf, its thrower as the caller.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class ExceptionsProfileTests
{
    private const int Throws = 250;

    [Fact]
    public async Task Exceptions_EachThrowCountedOnce_TypeIsTheLeaf_ThrowerIsItsCaller_NoMessages()
    {
        using var folder = new TempFolder();
        var (nettrace, traceId, timeline) = await CaptureThrowsAsync(folder);

        foreach (var parser in new[] { ProfileParser.CpuParser.Streaming, ProfileParser.CpuParser.TraceLog })
        {
            var profile = ProfileParser.Parse(CaptureKind.Exceptions, nettrace, new ParseOptions { TempDirectory = folder.Path }, new SampleAttributor(timeline), parser, CancellationToken.None);

            Assert.Equal("exceptions", profile.SampleTypes[0].Type);
            var types = string.Join(", ", profile.Samples.SelectMany(s => s.Labels).Where(l => l.Key == "exception_type").Select(l => l.Value).Distinct());
            Assert.True(profile.Samples.Count > 0, $"{parser}: no exceptions in the profile; comments: {string.Join(" | ", profile.Comments)}");
            Assert.True(types.Contains(typeof(OrderRejectedException).FullName!, StringComparison.Ordinal), $"{parser}: types seen: {types}");
            var rejected = profile.Samples.Where(s => s.Labels.Contains(new ProfileLabel("exception_type", typeof(OrderRejectedException).FullName!))).ToList();
            Assert.Equal(Throws, rejected.Sum(s => s.Values[0]));
            Assert.All(rejected, s => Assert.Equal(typeof(OrderRejectedException).FullName, profile.Frames[s.Stack[0]].FunctionName));
            // The runtime's exception dispatch (System.Runtime.EH) raises the event; the caller of the type is the thrower.
            Assert.All(rejected, s => Assert.Contains(nameof(Thrower.RejectOrderDistinctively), profile.Frames[s.Stack[1]].FunctionName, StringComparison.Ordinal));
            Assert.All(rejected, s => Assert.Contains(new ProfileLabel(SpanLabels.TraceId, traceId), s.Labels));
            Assert.DoesNotContain(profile.Samples, s => s.Labels.Any(l => l.Key == "exception_message"));
        }
    }

    [Fact]
    public async Task Exceptions_WithMessagesAskedFor_LabelsEachWithItsMessageCutTo128Characters()
    {
        using var folder = new TempFolder();
        var (nettrace, _, _) = await CaptureThrowsAsync(folder);

        var profile = ProfileParser.Parse(CaptureKind.Exceptions, nettrace, new ParseOptions { TempDirectory = folder.Path, ExceptionMessages = true }, CancellationToken.None);

        var messages = profile.Samples
            .Where(s => s.Labels.Contains(new ProfileLabel("exception_type", typeof(OrderRejectedException).FullName!)))
            .Select(s => s.Labels.Single(l => l.Key == "exception_message").Value)
            .Distinct()
            .ToList();
        var message = Assert.Single(messages);
        Assert.Equal(128, message.Length);
        Assert.StartsWith("order rejected: ", message, StringComparison.Ordinal);

        // The pprof encoding carries the type as the leaf a Go user sees with -top.
        using var pprof = new MemoryStream();
        PprofEncoder.Write(profile, pprof);
        var decoded = PprofDecoder.Decode(new MemoryStream(pprof.ToArray()));
        Assert.Contains(decoded.Samples, s => decoded.Frames[s.Stack[0]].FunctionName == typeof(OrderRejectedException).FullName);
    }

    private static async Task<(string Nettrace, string TraceId, SpanTimeline Timeline)> CaptureThrowsAsync(TempFolder folder)
    {
        SpanTimeline timeline;
        string traceId;
        string nettrace;
        using (TimelineRecorder.Start())
        {
            var from = Stopwatch.GetTimestamp();
            var capture = new EventPipeCaptureSource().CaptureAsync(CaptureKind.Exceptions, TimeSpan.FromSeconds(4), folder.File("exceptions.nettrace"), CancellationToken.None);
            using var source = new ActivitySource("TraceProf.Tests.Exceptions");
            using var listener = new ActivityListener
            {
                ShouldListenTo = s => s.Name == source.Name,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            };
            ActivitySource.AddActivityListener(listener);
            traceId = await Task.Run(async () =>
            {
                await Task.Delay(1500);
                using var activity = source.StartActivity("checkout")!;
                for (var i = 0; i < Throws; i++)
                {
                    try
                    {
                        Thrower.RejectOrderDistinctively(i);
                    }
                    catch (OrderRejectedException)
                    {
                    }
                }

                return activity.TraceId.ToHexString();
            });
            nettrace = (await capture).NettracePath;
            timeline = TimelineRecorder.Snapshot(from, Stopwatch.GetTimestamp());
        }

        return (nettrace, traceId, timeline);
    }

    private static class Thrower
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void RejectOrderDistinctively(int order) =>
            throw new OrderRejectedException("order rejected: " + new string('x', 200) + order);
    }
}

/// <summary>A distinctive exception type (top level: the runtime's exception event names nested types without their outer type).</summary>
internal sealed class OrderRejectedException(string message) : Exception(message);
