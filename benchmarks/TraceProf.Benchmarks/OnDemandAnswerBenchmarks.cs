using BenchmarkDotNet.Attributes;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Profiles;

namespace TraceProf.Benchmarks;

/// <summary>
/// The end of an on-demand CPU capture, after parsing: store the pprof and answer the caller with it. Before issue 12
/// the profile was encoded twice (once into the file the store took, once into the response); now it is encoded
/// once and the response is the stored bytes. Both on the same real profile (a cached 10 s capture, as in
/// <see cref="StreamingParseBenchmarks"/>).
/// </summary>
[MemoryDiagnoser]
public class OnDemandAnswerBenchmarks
{
    private Profile _profile = null!;
    private string _file = null!;

    [GlobalSetup]
    public void Setup()
    {
        // The streaming benchmark's cached 10 s capture (made by its setup when missing).
        var folder = Path.Combine(Path.GetTempPath(), "traceprof-bench", "streaming");
        var nettrace = Path.Combine(folder, "cpu-10s.nettrace");
        if (!File.Exists(nettrace))
        {
            new StreamingParseBenchmarks { CaptureSeconds = 10 }.Setup();
        }

        _profile = ProfileParser.Parse(CaptureKind.Cpu, nettrace, new ParseOptions { TempDirectory = folder }, CancellationToken.None);
        _file = Path.Combine(folder, "answer.pb.gz");
        Console.WriteLine($"// OnDemandAnswerBenchmarks: {_profile.Samples.Count} distinct samples, {_profile.Frames.Count} frames");
    }

    /// <summary>Before: encode into the stored file, then encode again into the response.</summary>
    [Benchmark(Baseline = true)]
    public long EncodeTwice()
    {
        using (var file = File.Create(_file))
        {
            PprofEncoder.Write(_profile, file);
        }

        using var response = new MemoryStream();
        ProfileEncoder.Write(_profile, ProfileFormat.Pprof, response, "cpu");
        return response.Length;
    }

    /// <summary>After: encode once, store those bytes, answer with the same bytes.</summary>
    [Benchmark]
    public long EncodeOnce()
    {
        var pprof = SnapshotWriter.Encode(_profile);
        File.WriteAllBytes(_file, pprof);
        using var response = new MemoryStream();
        response.Write(pprof);
        return response.Length;
    }
}
