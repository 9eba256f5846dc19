using BenchmarkDotNet.Attributes;
using TraceProf.Capture;
using TraceProf.Parsing;

namespace TraceProf.Benchmarks;

/// <summary>
/// Parsing a real CPU capture (made in the setup: a few busy threads for the given seconds) through the
/// TraceLog path. The baseline for the faster streaming parser.
/// </summary>
[MemoryDiagnoser]
public class ParseBenchmarks
{
    private string _folder = null!;
    private string _nettrace = null!;

    [Params(2, 10)]
    public int CaptureSeconds { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "traceprof-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        _nettrace = Path.Combine(_folder, "cpu.nettrace");
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
        new EventPipeCaptureSource().CaptureAsync(CaptureKind.Cpu, TimeSpan.FromSeconds(CaptureSeconds), _nettrace, CancellationToken.None).GetAwaiter().GetResult();
        stop.Cancel();
        workers.ForEach(t => t.Join());
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, recursive: true);

    [Benchmark]
    public int ParseCpu() =>
        ProfileParser.Parse(CaptureKind.Cpu, _nettrace, new ParseOptions { TempDirectory = _folder }, CancellationToken.None).Samples.Count;
}
