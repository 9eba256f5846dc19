using System.Diagnostics;
using System.Text.Json;
using TraceProf.AspNetCore.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TraceProf.AspNetCore.Tests.Ui;

/// <summary>
/// The whole story in a real browser: capture a CPU profile of a hot method, open /debug/ui/, sign in, filter by
/// the trace id, open the flame graph, find the hot method. Debian's chromium, driven by playwright-core
/// (Ui/e2e/browse.mjs); skipped only when chromium or node is absent. Screenshots land in
/// bin/…/TestResults/ui/.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
[Trait("Category", "Browser")]
public sealed class UiBrowserTests(ITestOutputHelper output)
{
    private const string TraceId = "5d3c1c2ab0e54a0e9a6cbf2b1d7a9e41";

    [SkippableFact]
    public async Task Browser_FromTraceIdToFlameGraph_ShowsTheHotMethod()
    {
        var chromium = FindChromium();
        Skip.If(chromium is null, "chromium is not installed (apt-get install -y chromium; .ci/run installs it); set TRACEPROF_CHROMIUM to another binary.");
        Skip.IfNot(CanRun("node", "--version"), "node is not installed (apt-get install -y nodejs npm; .ci/run installs it).");
        var e2e = E2eFolder();
        Assert.True(
            Directory.Exists(Path.Combine(e2e, "node_modules", "playwright-core")),
            $"playwright-core is missing from {e2e}/node_modules: the test project's build runs 'npm ci' there when npm is installed.");

        // TRACEPROF_UI_CAPTURE_SECONDS=30 measures how long the page takes to show a 30 s profile.
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("TRACEPROF_UI_CAPTURE_SECONDS"), out var s) ? s : 2;
        await using var host = await TraceProfHost.StartAsync();
        using (var hot = new HotLoop())
        {
            using var capture = await host.Client.SendAsync(Requests.Get($"/debug/profile?seconds={seconds}", "sre:profile", traceparent: $"00-{TraceId}-00f067aa0ba902b7-01"));
            Assert.Equal(System.Net.HttpStatusCode.OK, capture.StatusCode);
        }

        var artefacts = Path.Combine(AppContext.BaseDirectory, "TestResults", "ui");
        Directory.CreateDirectory(artefacts);
        var (exitCode, stdout, stderr) = await RunAsync(
            "node",
            [Path.Combine(e2e, "browse.mjs"), host.Client.BaseAddress!.ToString().TrimEnd('/'), TraceId, "BurnCpuDistinctively", artefacts, chromium!],
            e2e,
            TimeSpan.FromMinutes(3));
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.Equal(0, exitCode);

        using var result = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var root = result.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean(), root.TryGetProperty("error", out var error) ? error.GetString() : stdout);
        Assert.Equal(403, root.GetProperty("firstStatus").GetInt32());
        Assert.Equal(1, root.GetProperty("rows").GetInt32());
        Assert.Contains(TraceId, root.GetProperty("rowText").GetString(), StringComparison.Ordinal);
        Assert.Contains(HotLoop.MethodName, root.GetProperty("hotMethodText").GetString(), StringComparison.Ordinal);
        Assert.True(root.GetProperty("cspViolations").GetArrayLength() == 0, "CSP violations: " + root.GetProperty("cspViolations"));
        Assert.True(root.GetProperty("pageErrors").GetArrayLength() == 0, "uncaught page errors: " + root.GetProperty("pageErrors"));

        // The only console errors allowed are chromium's own notes on the two pages this walk opens without a role on
        // purpose ("Failed to load resource: … 403") and on the host's /favicon.ico (the test host has none; chromium
        // asks every site for one, outside TraceProf's prefix): anything else, speedscope's included, fails the test.
        var unexpected = root.GetProperty("consoleErrors").EnumerateArray()
            .Where(e => !(e.GetProperty("text").GetString()!.StartsWith("Failed to load resource", StringComparison.Ordinal) &&
                          e.GetProperty("url").GetString() is { } url &&
                          (url.Contains("/debug/ui/?traceId=", StringComparison.Ordinal) || url.EndsWith("/debug/pprof/", StringComparison.Ordinal) || url.EndsWith("/favicon.ico", StringComparison.Ordinal))))
            .Select(e => e.ToString())
            .ToArray();
        Assert.True(unexpected.Length == 0, "console errors: " + string.Join(" | ", unexpected));

        // The pprof index for a browser: the sign-in hint first (HTML, not JSON), then the styled page linking the UI.
        Assert.Equal(403, root.GetProperty("indexStatus").GetInt32());
        Assert.StartsWith("text/html", root.GetProperty("indexContentType").GetString(), StringComparison.Ordinal);
        Assert.Contains("system-ui", root.GetProperty("indexFont").GetString(), StringComparison.Ordinal);
        Assert.True(root.GetProperty("indexRows").GetInt32() >= 10, "the index lists the profiles");
        Assert.True(File.Exists(Path.Combine(artefacts, "ui-flamegraph.png")));
        output.WriteLine($"{seconds} s profile: shown after {root.GetProperty("timingsMs").GetProperty("profileShown").GetInt32()} ms, " +
                         $"hot method listed after {root.GetProperty("timingsMs").GetProperty("hotMethodListed").GetInt32()} ms; screenshots in {artefacts}");
    }

    [SkippableFact]
    public async Task Browser_FailingOrderAcrossTwoServices_TracePageShowsBothServicesSpans_AndASpansFlameGraph()
    {
        var chromium = FindChromium();
        Skip.If(chromium is null, "chromium is not installed (apt-get install -y chromium; .ci/run installs it); set TRACEPROF_CHROMIUM to another binary.");
        Skip.IfNot(CanRun("node", "--version"), "node is not installed (apt-get install -y nodejs npm; .ci/run installs it).");
        var assembly = ShopDemoProcess.FindAssembly();
        Skip.If(assembly is null, "samples/ShopDemo is not built; build the solution (dotnet test Diagnostics.sln does).");
        var e2e = E2eFolder();
        var folder = Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await using var inventory = await ShopDemoProcess.StartAsync(assembly!, $"--TraceProf:Storage:Path={folder}", "--ShopDemo:Role=inventory");
            await using var shop = await ShopDemoProcess.StartAsync(assembly!, $"--TraceProf:Storage:Path={folder}", $"--ShopDemo:InventoryUrl={inventory.Address}");
            var traceId = await Endpoints.CrossServiceSpanTableTests.FailOrderAsync(shop, inventory);

            var artefacts = Path.Combine(AppContext.BaseDirectory, "TestResults", "ui");
            Directory.CreateDirectory(artefacts);
            var (exitCode, stdout, stderr) = await RunAsync(
                "node",
                [Path.Combine(e2e, "spans.mjs"), shop.Address.ToString().TrimEnd('/'), traceId, "ShopDemo.PricingEngine", artefacts, chromium!],
                e2e,
                TimeSpan.FromMinutes(3));
            output.WriteLine(stdout);
            output.WriteLine(stderr);
            Assert.Equal(0, exitCode);

            using var result = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
            var root = result.RootElement;
            Assert.True(root.GetProperty("ok").GetBoolean(), root.TryGetProperty("error", out var error) ? error.GetString() : stdout);
            var spans = root.GetProperty("spans").EnumerateArray().ToList();
            Assert.Contains(spans, s => s.GetProperty("service").GetString() == "shop" && s.GetProperty("route").GetString() == "POST /orders");
            Assert.Contains(spans, s => s.GetProperty("service").GetString() == "inventory");
            Assert.Single(spans, s => s.GetProperty("slowest").GetBoolean());
            Assert.Single(spans, s => s.GetProperty("hotSpot").GetBoolean());
            Assert.True(root.GetProperty("tableBeforeFlameGraph").GetBoolean(), "the span table comes before the merged flame graph");
            Assert.Contains("ShopDemo.PricingEngine", root.GetProperty("hotMethodText").GetString(), StringComparison.Ordinal);
            Assert.Equal(0, root.GetProperty("cspViolations").GetArrayLength());
        }
        finally
        {
            TraceProfHost.DeleteStorage(folder);
        }
    }

    private static string? FindChromium()
    {
        var configured = Environment.GetEnvironmentVariable("TRACEPROF_CHROMIUM");
        return new[] { configured, "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));
    }

    // Found from the test's output folder, not [CallerFilePath]: CI builds map source paths to /_/ (deterministic builds).
    private static string E2eFolder() => Path.Combine(ShopDemoProcess.RepositoryRoot(), "tests", "TraceProf.AspNetCore.Tests", "Ui", "e2e");

    private static bool CanRun(string program, string argument)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(program, argument) { RedirectStandardOutput = true, RedirectStandardError = true });
            process!.WaitForExit(10_000);
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string program, string[] arguments, string workingDirectory, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish within {timeout}.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
