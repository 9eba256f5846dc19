using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using TraceProf;
using TraceProf.Attribution;

namespace TraceProf.Benchmarks;

/// <summary>
/// The cost of span tracking on an await-heavy request path: an Activity and ten awaits that resume on the
/// thread pool, with and without a capture listening, with and without an app label scope.
/// </summary>
[MemoryDiagnoser]
public class TrackingBenchmarks
{
    private IDisposable? _recording;

    [Params(false, true)]
    public bool Recording { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Recording)
        {
            _recording = TimelineRecorder.Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _recording?.Dispose();

    [Benchmark(Baseline = true)]
    public Task RequestWithTenAwaits() => Task.Run(RunRequestAsync);

    [Benchmark]
    public Task RequestWithTenAwaits_InLabelScope() => Task.Run(async () =>
    {
        using (TraceProfLabels.Add("stage", "pricing"))
        {
            await RunRequestAsync();
        }
    });

    private static async Task RunRequestAsync()
    {
        using var activity = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        for (var i = 0; i < 10; i++)
        {
            await Task.Yield();
        }
    }
}
