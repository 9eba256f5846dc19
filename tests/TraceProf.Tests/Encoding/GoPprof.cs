using System.Diagnostics;

namespace TraceProf.Tests.Encoding;

/// <summary>Runs the real <c>go tool pprof</c> on a profile file, with its home and caches in a folder of the test's.</summary>
public static class GoPprof
{
    public const string NoGo = "'go' is not on PATH, so 'go tool pprof' cannot be run; install Go (apt-get install golang-go) to run this test.";

    public static string? Go { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, "go"))
        .FirstOrDefault(File.Exists);

    /// <summary>Standard output of <c>go tool pprof &lt;options&gt; &lt;file&gt;</c>; fails the test on a non-zero exit.</summary>
    public static async Task<string> RunAsync(string folder, string file, params string[] options)
    {
        var info = new ProcessStartInfo(Go!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("tool");
        info.ArgumentList.Add("pprof");
        foreach (var option in options)
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
            Assert.Fail($"go tool pprof {string.Join(' ', options)} did not finish within 2 minutes.");
        }

        Assert.True(process.ExitCode == 0, $"go tool pprof {string.Join(' ', options)} exited {process.ExitCode}:\n{await stdout}{await stderr}");
        return await stdout;
    }
}
