using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Trace;
using TraceProf.AspNetCore;
using TraceProf.AspNetCore.OpenTelemetry;

namespace TraceProf.Benchmarks;

/// <summary>
/// What the adaptive sampler costs per span, against the SDK's own samplers: <c>ShouldSample</c> alone for a root
/// span and for a child of a sampled parent, and a root span started and stopped through a tracer provider (no
/// exporter) at a probability of about 10 %. Run:
/// <c>dotnet run -c Release --project benchmarks/TraceProf.Benchmarks -- --filter '*AdaptiveSampler*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class AdaptiveSamplerBenchmarks
{
    private const int Ids = 1024;

    private static readonly ActivitySource Source = new("TraceProf.Benchmarks.AdaptiveSampler");

    private readonly ActivityTraceId[] _traceIds = new ActivityTraceId[Ids];
    private readonly ActivityContext _sampledParent = new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
    private AdaptiveSampler _adaptive = null!;
    private Sampler _ratio = null!;
    private Sampler _parentBased = null!;
    private TracerProvider? _provider;
    private int _next;

    /// <summary>Which sampler the span-level benchmark's provider uses.</summary>
    [Params("adaptive", "ratio")]
    public string Provider { get; set; } = "adaptive";

    [GlobalSetup]
    public void GlobalSetup()
    {
        for (var i = 0; i < Ids; i++)
        {
            _traceIds[i] = ActivityTraceId.CreateRandom();
        }

        // Target 1 000/s against the millions of roots per second a benchmark makes: the probability settles at
        // its floor of 10 % after the first second, as the ratio sampler's.
        var options = new TraceProfAdaptiveSamplingOptions { TargetTracesPerSecond = 1_000, MinProbability = 0.1 };
        _adaptive = new AdaptiveSampler(options);
        _ratio = new TraceIdRatioBasedSampler(0.1);
        _parentBased = new ParentBasedSampler(new TraceIdRatioBasedSampler(0.1));
        var builder = Sdk.CreateTracerProviderBuilder().AddSource(Source.Name);
        _provider = (Provider == "adaptive" ? builder.AddTraceProfAdaptiveSampling(o => (o.TargetTracesPerSecond, o.MinProbability) = (1_000, 0.1)) : builder.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(0.1)))).Build();

        // Past the first window, so the measured calls run at the settled probability.
        var until = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 3 / 2);
        while (Stopwatch.GetTimestamp() < until)
        {
            Root();
            RootSpan();
        }
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _provider?.Dispose();
        _adaptive.Dispose();
    }

    /// <summary>The adaptive sampler deciding a root span.</summary>
    [Benchmark]
    public SamplingDecision Root() => _adaptive.ShouldSample(Parameters(default)).Decision;

    /// <summary>The SDK's ratio sampler deciding a root span, for comparison.</summary>
    [Benchmark(Baseline = true)]
    public SamplingDecision RootRatio() => _ratio.ShouldSample(Parameters(default)).Decision;

    /// <summary>The adaptive sampler following a sampled parent.</summary>
    [Benchmark]
    public SamplingDecision Child() => _adaptive.ShouldSample(Parameters(_sampledParent)).Decision;

    /// <summary>The SDK's parent-based sampler following a sampled parent, for comparison.</summary>
    [Benchmark]
    public SamplingDecision ChildParentBased() => _parentBased.ShouldSample(Parameters(_sampledParent)).Decision;

    /// <summary>A root span started and stopped through the provider (its processor observes the end).</summary>
    [Benchmark]
    public bool RootSpan()
    {
        using var activity = Source.StartActivity("GET /orders/{id}", ActivityKind.Server);
        return activity is not null;
    }

    private SamplingParameters Parameters(ActivityContext parent)
    {
        var id = _traceIds[_next++ & (Ids - 1)];
        return new SamplingParameters(parent, parent.TraceId == default ? id : parent.TraceId, "GET /orders/{id}", ActivityKind.Server);
    }
}
