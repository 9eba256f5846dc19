using System.Diagnostics;
using TraceProf.Encoding;

namespace TraceProf.Tests.Encoding;

/// <summary>The real <c>go tool pprof</c> reads what <see cref="PprofEncoder"/> writes.</summary>
public sealed class GoToolPprofTests : IDisposable
{
    private const string NoGo = "'go' is not on PATH, so 'go tool pprof' cannot be run; install Go (apt-get install golang-go) to run this test.";

    private readonly string _folder = Directory.CreateTempSubdirectory("traceprof-pprof-").FullName;
    private readonly string? _go = FindOnPath("go");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string WriteProfile()
    {
        var file = Path.Combine(_folder, "cpu.pb.gz");
        File.WriteAllBytes(file, PprofEncoder.Encode(ShopProfile.Build()));
        return file;
    }

    [SkippableFact]
    public async Task GoToolPprofTop_ShowsHotMethodFirst()
    {
        Skip.If(_go is null, NoGo);
        var top = await RunPprofAsync("-top", WriteProfile());
        Assert.Contains("Type: cpu", top, StringComparison.Ordinal);
        Assert.Equal(ShopProfile.HotMethod, FirstRow(top));
    }

    [SkippableFact]
    public async Task GoToolPprof_TakesFunctionNamesAsTheyAre_WithoutTryingToSymbolize()
    {
        // Without has_functions on the mappings pprof looks for Shop.dll & co. on disk and prints
        // "Local symbolization failed for Shop.dll" for every module: managed addresses mean nothing outside the process.
        Skip.If(_go is null, NoGo);
        var (output, errors) = await RunPprofWithErrorsAsync("-top", WriteProfile());
        Assert.DoesNotContain("symbolization", errors, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("binary filename", errors, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(ShopProfile.HotMethod, FirstRow(output));
    }

    [SkippableFact]
    public async Task GoToolPprofTagfocus_KeepsTheCaptureTraceAndDropsOthers()
    {
        Skip.If(_go is null, NoGo);
        var file = WriteProfile();

        var focused = await RunPprofAsync($"-top -tagfocus=capture_trace_id={ShopProfile.TraceId}", file);
        Assert.Equal(ShopProfile.HotMethod, FirstRow(focused));

        var other = await RunPprofAsync($"-top -tagfocus=capture_trace_id={ShopProfile.OtherTraceId}", file);
        Assert.DoesNotContain(ShopProfile.HotMethod, other, StringComparison.Ordinal);
        Assert.Null(FirstRow(other));
    }

    [SkippableFact]
    public async Task GoToolPprofSampleIndexWall_ShowsTheBlockedMethodFirst()
    {
        Skip.If(_go is null, NoGo);
        var top = await RunPprofAsync("-top -sample_index=wall", WriteProfile());
        Assert.Contains("Type: wall", top, StringComparison.Ordinal);
        Assert.Equal(ShopProfile.BlockedMethod, FirstRow(top));
    }

    /// <summary>The function name of the first row after the <c>flat flat% sum% cum cum%</c> header; null when there is none.</summary>
    private static string? FirstRow(string top)
    {
        var lines = top.Split('\n');
        var header = Array.FindIndex(lines, l => l.Contains("flat%", StringComparison.Ordinal) && l.Contains("cum%", StringComparison.Ordinal));
        Assert.True(header >= 0, $"No header row in:\n{top}");
        var row = lines.Skip(header + 1).FirstOrDefault(l => l.Trim().Length > 0);

        // flat flat% sum% cum cum% name
        var columns = row?.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return columns is { Length: 6 } ? columns[5] : null;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private async Task<string> RunPprofAsync(string options, string file) => (await RunPprofWithErrorsAsync(options, file)).Output;

    private async Task<(string Output, string Errors)> RunPprofWithErrorsAsync(string options, string file)
    {
        var info = new ProcessStartInfo(_go!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("tool");
        info.ArgumentList.Add("pprof");
        foreach (var option in options.Split(' '))
        {
            info.ArgumentList.Add(option);
        }

        info.ArgumentList.Add(file);

        // go wants a writable home and cache even for 'go tool'; keep them out of the real home.
        var home = Path.Combine(_folder, "home");
        info.Environment["HOME"] = home;
        info.Environment["GOCACHE"] = Path.Combine(home, "cache");
        info.Environment["GOPATH"] = Path.Combine(home, "go");
        info.Environment["PPROF_TMPDIR"] = Path.Combine(home, "pprof");
        info.Environment["GOFLAGS"] = "";

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"go tool pprof {options} did not finish within 2 minutes.");
        }

        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"go tool pprof {options} exited {process.ExitCode}:\n{output}");
        return (await stdout, await stderr);
    }
}
