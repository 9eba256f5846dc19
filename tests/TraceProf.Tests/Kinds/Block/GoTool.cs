using System.Diagnostics;

namespace TraceProf.Tests.Kinds.Block;

/// <summary>Runs the real <c>go tool pprof</c> (as Encoding/GoToolPprofTests does) for the block kind's round trips.</summary>
internal static class GoTool
{
    public const string Missing = "'go' is not on PATH, so 'go tool pprof' cannot be run; install Go (apt-get install golang-go) to run this test.";

    public static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "go"))
            .FirstOrDefault(File.Exists);

    public static async Task<string> PprofAsync(string? go, string folder, string options, string file)
    {
        var info = new ProcessStartInfo(go!)
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
        var home = Path.Combine(folder, "home");
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

        Assert.True(process.ExitCode == 0, $"go tool pprof {options} exited {process.ExitCode}:\n{await stdout}{await stderr}");
        return await stdout;
    }
}
