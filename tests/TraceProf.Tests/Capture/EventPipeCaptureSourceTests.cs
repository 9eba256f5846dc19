using System.Diagnostics;
using TraceProf.Capture;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Profiles;

namespace TraceProf.Tests.Capture;

[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class EventPipeCaptureSourceTests
{
    [Fact]
    public async Task CpuCapture_HotMethodDominatesCpuSamples()
    {
        using var folder = new TempFolder();
        var source = new EventPipeCaptureSource();
        CaptureResult result;
        using (new HotLoop())
        {
            result = await source.CaptureAsync(CaptureKind.Cpu, TimeSpan.FromSeconds(2), folder.File("cpu.nettrace"), CancellationToken.None);
        }

        Assert.True(result.Bytes > 0 && new FileInfo(result.NettracePath).Length == result.Bytes);
        Assert.InRange(result.Duration, TimeSpan.FromSeconds(1.9), TimeSpan.FromMinutes(1));

        var profile = ProfileParser.Parse(
            CaptureKind.Cpu,
            result.NettracePath,
            new ParseOptions { TempDirectory = folder.Path, ExtraLabels = [new ProfileLabel("capture_trace_id", "abc")] },
            CancellationToken.None);

        Assert.Equal(WellKnownSampleTypes.CpuProfile, profile.SampleTypes);
        // The period is the effective spacing of ticks (never below the nominal 1 ms), so the longest-sampled
        // thread's wall time adds up to the capture's duration.
        Assert.True(profile.Period >= 1_000_000, $"period {profile.Period}");
        var longestWall = profile.Samples.GroupBy(s => s.Labels.First(l => l.Key == "thread_id").Value).Max(g => g.Sum(s => s.Values[2]));
        Assert.InRange(longestWall / profile.Duration.TotalNanoseconds, 0.9, 1.25);
        var cpuByLeaf = profile.Samples
            .Where(s => s.Stack.Count > 0 && s.Values[1] > 0)
            .GroupBy(s => profile.Frames[s.Stack[0]].FunctionName)
            .Select(g => (Name: g.Key, Cpu: g.Sum(s => s.Values[1])))
            .OrderByDescending(x => x.Cpu)
            .ToList();
        var hot = cpuByLeaf.FirstOrDefault(x => x.Name.Contains(HotLoop.MethodName, StringComparison.Ordinal));
        Assert.True(hot.Cpu > 0, $"hot method not found among cpu leaves: {string.Join(" | ", cpuByLeaf.Take(8).Select(x => x.Name))}");

        // One thread spinning for 2 s: on a busy 2-core machine it is dominant, if not always first.
        Assert.Contains(hot.Name, cpuByLeaf.Take(3).Select(x => x.Name));
        Assert.True(hot.Cpu >= profile.Total(1) * 0.25, $"hot method has {hot.Cpu} of {profile.Total(1)} cpu ns");
        Assert.StartsWith("TraceProf.Tests.EngineHotLoop.BurnCpuDistinctively", hot.Name, StringComparison.Ordinal);
        Assert.True(profile.Total(2) >= profile.Total(1), "wall ≥ cpu");
        Assert.All(profile.Samples, s =>
        {
            Assert.Contains(s.Labels, l => l.Key == "thread_id" && int.TryParse(l.Value, out _));
            Assert.Contains(new ProfileLabel("capture_trace_id", "abc"), s.Labels);
        });
        Assert.DoesNotContain(profile.Frames, f => f.FunctionName.Contains("PollGCWorker", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Capture_Cancelled_StopsPromptly_DeletesFile_AndNextCaptureWorks()
    {
        using var folder = new TempFolder();
        var source = new EventPipeCaptureSource();
        var path = folder.File("cancelled.nettrace");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var stopwatch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => source.CaptureAsync(CaptureKind.Cpu, TimeSpan.FromSeconds(30), path, cancel.Token));

        // Generous bound: the real goal (well under a second) is measured, not asserted, on a busy machine.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"cancellation took {stopwatch.Elapsed}");
        Assert.False(File.Exists(path));

        var next = await source.CaptureAsync(CaptureKind.Cpu, TimeSpan.FromSeconds(1), folder.File("next.nettrace"), CancellationToken.None);
        Assert.True(next.Bytes > 0);
    }

    [Fact]
    public async Task Capture_AlreadyCancelled_StartsNoSession()
    {
        using var folder = new TempFolder();
        var path = folder.File("never.nettrace");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new EventPipeCaptureSource().CaptureAsync(CaptureKind.Cpu, TimeSpan.FromSeconds(1), path, new CancellationToken(canceled: true)));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Providers_ForCpu_AreSampleProfilerAndRuntimeMethodEvents()
    {
        var providers = KindProviders.For(CaptureKind.Cpu);
        Assert.Contains(providers, p => p.Name == RuntimeEvents.SampleProfilerProvider);
        var runtime = Assert.Single(providers, p => p.Name == RuntimeEvents.RuntimeProvider);
        Assert.Equal(0x38, runtime.Keywords & 0x38);
        Assert.True(KindProviders.RequestRundown(CaptureKind.Cpu));
    }
}
