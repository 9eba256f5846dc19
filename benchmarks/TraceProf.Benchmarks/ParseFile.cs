using System.Diagnostics;
using System.Globalization;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Pipeline;

namespace TraceProf.Benchmarks;

/// <summary>
/// Times nettrace → speedscope for one file, both parse paths, to compare with
/// <c>dotnet-trace convert --format speedscope</c> on the same file:
/// <c>dotnet run -c Release --project benchmarks/TraceProf.Benchmarks -- parse-file app.nettrace</c>.
/// </summary>
internal static class ParseFile
{
    public static int Run(string[] args)
    {
        if (args.Length < 2 || !File.Exists(args[1]))
        {
            Console.Error.WriteLine("usage: parse-file <capture.nettrace>");
            return 2;
        }

        var temp = Path.Combine(Path.GetTempPath(), "traceprof-parse-file");
        foreach (var parser in new[] { ProfileParser.CpuParser.Streaming, ProfileParser.CpuParser.TraceLog })
        {
            // First run warms the JIT; the second is reported.
            for (var run = 0; run < 2; run++)
            {
                var stopwatch = Stopwatch.StartNew();
                var profile = ProfileParser.Parse(CaptureKind.Cpu, args[1], new ParseOptions { TempDirectory = temp }, parser, CancellationToken.None);
                var output = Path.Combine(temp, "out.speedscope.json");
                using (var file = File.Create(output))
                {
                    SpeedscopeEncoder.Write(profile, file, "parse-file");
                }

                if (run == 1)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{parser}: nettrace → speedscope in {stopwatch.Elapsed.TotalMilliseconds:F0} ms ({profile.Total(0)} samples)"));
                }
            }
        }

        return 0;
    }
}
