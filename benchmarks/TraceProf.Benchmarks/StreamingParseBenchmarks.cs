using BenchmarkDotNet.Attributes;
using TraceProf.Capture;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Pipeline;

namespace TraceProf.Benchmarks;

/// <summary>
/// The streaming CPU parser against the TraceLog path, side by side on the same real capture (made in the setup
/// four busy threads for the given seconds). Events per second = the sampler
/// events printed by the setup divided by the mean time.
/// </summary>
[MemoryDiagnoser]
public class StreamingParseBenchmarks
{
    private string _folder = null!;
    private string _nettrace = null!;

    [Params(2, 10)]
    public int CaptureSeconds { get; set; }

    /// <summary>Gets the sampler events in the capture (the unit of "events/s").</summary>
    public long SamplerEvents { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        // BenchmarkDotNet runs each method in its own process; both must parse the same file, so the capture is
        // made once per size and kept (1-3 MB) in the temp folder for the methods that follow.
        _folder = Path.Combine(Path.GetTempPath(), "traceprof-bench", "streaming");
        Directory.CreateDirectory(_folder);
        _nettrace = Path.Combine(_folder, $"cpu-{CaptureSeconds}s.nettrace");
        if (!File.Exists(_nettrace))
        {
            Capture();
        }

        SamplerEvents = Parse(ProfileParser.CpuParser.Streaming).Total(0);
        Console.WriteLine($"// StreamingParseBenchmarks: CaptureSeconds={CaptureSeconds}: {SamplerEvents} sampler events, {new FileInfo(_nettrace).Length} bytes");
    }

    [Benchmark(Baseline = true)]
    public int TraceLog() => Parse(ProfileParser.CpuParser.TraceLog).Samples.Count;

    [Benchmark]
    public int Streaming() => Parse(ProfileParser.CpuParser.Streaming).Samples.Count;

    private void Capture()
    {
        var partial = _nettrace + ".partial";
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            var x = 0.0;
            while (!stop.IsCancellationRequested)
            {
                x += Math.Sqrt(x + 1);
            }
        })
        { IsBackground = true }).ToList();
        workers.ForEach(t => t.Start());
        new EventPipeCaptureSource().CaptureAsync(CaptureKind.Cpu, TimeSpan.FromSeconds(CaptureSeconds), partial, CancellationToken.None).GetAwaiter().GetResult();
        stop.Cancel();
        workers.ForEach(t => t.Join());
        File.Move(partial, _nettrace, overwrite: true);
    }

    private Profiles.Profile Parse(ProfileParser.CpuParser parser) =>
        ProfileParser.Parse(CaptureKind.Cpu, _nettrace, new ParseOptions { TempDirectory = _folder }, parser, CancellationToken.None);
}
