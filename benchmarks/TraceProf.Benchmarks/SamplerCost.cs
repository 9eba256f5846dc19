using System.Diagnostics;
using System.Globalization;
using TraceProf.Capture;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Pipeline;

namespace TraceProf.Benchmarks;

/// <summary>
/// The EventPipe sampler's own cost: work done by two busy threads in a fixed time, with N managed threads in
/// the process, without and with a CPU capture listening, at the runtime's default sampling interval and with
/// <c>DOTNET_EventPipeThreadSamplingRate=A</c> (10 ms, hexadecimal; read only at process start, so each setting runs in a child
/// process). Run: <c>dotnet run -c Release --project benchmarks/TraceProf.Benchmarks -- sampler-cost</c>.
/// </summary>
internal static class SamplerCost
{
    private const string ChildFlag = "sampler-cost-child";

    public static int Run(string[] args)
    {
        if (args.Length > 1 && args[0] == ChildFlag)
        {
            return Child(int.Parse(args[1], CultureInfo.InvariantCulture), TimeSpan.FromSeconds(double.Parse(args[2], CultureInfo.InvariantCulture)));
        }

        var seconds = args.Length > 1 ? args[1] : "5";
        Console.WriteLine("| threads | sampling | ops/s without capture | ops/s during capture | loss | samples/thread/s |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|");
        foreach (var threads in new[] { 10, 50, 200 })
        {
            // The runtime reads the variable as hexadecimal milliseconds: "A" is 10 ms.
            foreach (var rate in new string?[] { null, "A" })
            {
                var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
                info.ArgumentList.Add(typeof(SamplerCost).Assembly.Location);
                info.ArgumentList.Add(ChildFlag);
                info.ArgumentList.Add(threads.ToString(CultureInfo.InvariantCulture));
                info.ArgumentList.Add(seconds);
                if (rate is not null)
                {
                    info.Environment["DOTNET_EventPipeThreadSamplingRate"] = rate;
                }

                using var child = Process.Start(info)!;
                var line = child.StandardOutput.ReadToEnd().Trim();
                child.WaitForExit();
                Console.WriteLine($"| {threads} | {(rate is null ? "default (1 ms)" : $"{Convert.ToInt32(rate, 16)} ms ({rate})")} | {line}");
            }
        }

        return 0;
    }

    private static int Child(int threads, TimeSpan duration)
    {
        using var stop = new CancellationTokenSource();
        using var park = new ManualResetEventSlim();

        // Two busy threads do the measured work; the rest are parked, as idle pool and I/O threads would be.
        var parked = Enumerable.Range(0, Math.Max(0, threads - 2)).Select(_ => new Thread(() => park.Wait()) { IsBackground = true }).ToList();
        parked.ForEach(t => t.Start());
        var baseline = Work(duration);
        var folder = Path.Combine(Path.GetTempPath(), "traceprof-sampler-cost", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var nettrace = Path.Combine(folder, "cpu.nettrace");
        var capture = new EventPipeCaptureSource().CaptureAsync(CaptureKind.Cpu, duration + TimeSpan.FromSeconds(1.5), nettrace, CancellationToken.None);
        Thread.Sleep(500);
        var during = Work(duration);
        capture.GetAwaiter().GetResult();
        var profile = ProfileParser.Parse(CaptureKind.Cpu, nettrace, new ParseOptions { TempDirectory = folder }, CancellationToken.None);
        var samplesPerThreadPerSecond = profile.Total(0) / (double)Math.Max(1, profile.Samples.Select(s => s.Labels.First(l => l.Key == "thread_id").Value).Distinct().Count()) / profile.Duration.TotalSeconds;
        park.Set();
        Directory.Delete(folder, recursive: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{baseline:N0} | {during:N0} | {(baseline - during) * 100.0 / baseline:F1} % | {samplesPerThreadPerSecond:F0} |"));
        return 0;
    }

    private static double Work(TimeSpan duration)
    {
        long total = 0;
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            long ops = 0;
            var x = 1.0;
            while (Stopwatch.GetTimestamp() < until)
            {
                for (var i = 0; i < 10_000; i++)
                {
                    x = Math.Sqrt(x + i);
                }

                ops++;
            }

            Interlocked.Add(ref total, ops);
            GC.KeepAlive(x);
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        return total / duration.TotalSeconds;
    }
}
