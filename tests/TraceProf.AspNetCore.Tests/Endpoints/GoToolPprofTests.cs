using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>The real <c>go tool pprof</c> reads what the endpoint serves.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class GoToolPprofTests
{
    [SkippableFact]
    public async Task GoToolPprofTop_ShowsHotMethod_AndTagfocusFiltersByCaptureTrace()
    {
        var go = FindOnPath("go");
        Skip.If(go is null, "'go' is not on PATH, so 'go tool pprof' cannot be run; install it (apt-get install golang-go). .ci/run does.");

        await using var host = await TraceProfHost.StartAsync();
        using var hot = new HotLoop();
        const string traceId = "0af7651916cd43dd8448eb211c80319c";
        using var response = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=2", "sre:profile", traceparent: $"00-{traceId}-b7ad6b7169203331-01"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var file = Path.Combine(host.StoragePath, "cpu.pb.gz");
        await File.WriteAllBytesAsync(file, await response.Content.ReadAsByteArrayAsync());

        var top = await RunAsync(go!, $"tool pprof -top -nodecount=15 {file}");
        Assert.Contains(HotLoop.MethodName, top, StringComparison.Ordinal);

        var focused = await RunAsync(go!, $"tool pprof -top -tagfocus=capture_trace_id={traceId} {file}");
        Assert.Contains(HotLoop.MethodName, focused, StringComparison.Ordinal);
        var other = await RunAsync(go!, $"tool pprof -top -tagfocus=capture_trace_id=ffffffffffffffffffffffffffffffff {file}");
        Assert.DoesNotContain(HotLoop.MethodName, other, StringComparison.Ordinal);
    }

    /// <summary>
    /// What a Go user types: the key in the URL's user info (Go's HTTP client sends it as Basic auth), no role header;
    /// the key is bound to a role. Every path the tool asks for is recorded, so the test also says what it needs.
    /// </summary>
    [SkippableFact]
    public async Task GoToolPprofTop_ByUrl_WithTheKeyInTheUserInfo_FetchesOnlyTheProfile()
    {
        var go = FindOnPath("go");
        Skip.If(go is null, "'go' is not on PATH, so 'go tool pprof' cannot be run; install it (apt-get install golang-go). .ci/run does.");

        const string key = "go-tool-pprof-key";
        var requested = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var host = await TraceProfHost.StartAsync(
            options =>
            {
                options.TrustLoopback = false; // the key is the only proof: loopback must not be what lets the tool in
                options.ApiKeys.Add(new TraceProfApiKey { Hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))), Role = "sre:profile" });
            },
            configureApp: app =>
            {
                app.Use((context, next) =>
                {
                    requested.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString} auth={context.Request.Headers.Authorization.ToString().Split(' ')[0]}");
                    return next(context);
                });
                app.MapTraceProf();
            });
        using var hot = new HotLoop();
        var port = host.Client.BaseAddress!.Port;

        var top = await RunAsync(go!, $"tool pprof -top -nodecount=15 http://trace:{key}@127.0.0.1:{port}/debug/pprof/profile?seconds=1");

        Assert.Contains(HotLoop.MethodName, top, StringComparison.Ordinal);
        Assert.Equal(["GET /debug/pprof/profile?seconds=1 auth=Basic"], requested.Where(r => r.Contains("/debug/", StringComparison.Ordinal)));
    }

    [SkippableFact]
    public async Task GoToolPprof_ByUrl_WrongKey_FailsWith401()
    {
        var go = FindOnPath("go");
        Skip.If(go is null, "'go' is not on PATH, so 'go tool pprof' cannot be run; install it (apt-get install golang-go). .ci/run does.");

        await using var host = await TraceProfHost.StartAsync(environmentName: "Development"); // loopback role on: a wrong key must still fail
        var port = host.Client.BaseAddress!.Port;

        var output = await RunAsync(go!, $"tool pprof -top http://trace:wrong-key@127.0.0.1:{port}/debug/pprof/profile?seconds=1", expectSuccess: false);

        Assert.Contains("401 Unauthorized", output, StringComparison.Ordinal);
    }

    internal static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    internal static async Task<string> RunAsync(string fileName, string arguments, bool expectSuccess = true)
    {
        var info = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // go wants a writable cache and home even for 'go tool'.
        var home = Path.Combine(Path.GetTempPath(), "traceprof-go-home");
        info.Environment["HOME"] = home;
        info.Environment["GOCACHE"] = Path.Combine(home, "cache");
        info.Environment["GOPATH"] = Path.Combine(home, "path");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0 == expectSuccess, $"{fileName} {arguments} exited {process.ExitCode}: {output}");
        return output;
    }
}
