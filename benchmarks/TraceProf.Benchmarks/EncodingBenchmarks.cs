using BenchmarkDotNet.Attributes;
using TraceProf.Encoding;
using TraceProf.Profiles;

namespace TraceProf.Benchmarks;

/// <summary>Encoding a CPU profile of 200 frames and 10,000 distinct samples.</summary>
[MemoryDiagnoser]
public class EncodingBenchmarks
{
    private Profile _profile = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var builder = new ProfileBuilder(WellKnownSampleTypes.CpuProfile, WellKnownSampleTypes.CpuProfileDefaultIndex) { Period = 1_000_000 };
        var frames = Enumerable.Range(0, 200).Select(i => builder.InternFrame(new ProfileFrame($"Shop.Module{i % 7}.Type{i % 23}.Method{i}(int32)", $"Shop.Module{i % 7}"))).ToArray();
        var stack = new int[24];
        for (var i = 0; i < 10_000; i++)
        {
            var depth = random.Next(4, stack.Length);
            for (var d = 0; d < depth; d++)
            {
                stack[d] = frames[random.Next(frames.Length)];
            }

            builder.Add(stack.AsSpan(0, depth), [1, 1_000_000, 1_000_000], [new ProfileLabel("thread_id", random.Next(20).ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        }

        _profile = builder.Build();
    }

    [Benchmark]
    public long Pprof()
    {
        using var stream = new MemoryStream();
        PprofEncoder.Write(_profile, stream);
        return stream.Length;
    }

    [Benchmark]
    public long Speedscope()
    {
        using var stream = new MemoryStream();
        SpeedscopeEncoder.Write(_profile, stream, "bench");
        return stream.Length;
    }

    [Benchmark]
    public long Folded()
    {
        using var stream = new MemoryStream();
        FoldedEncoder.Write(_profile, stream);
        return stream.Length;
    }
}
