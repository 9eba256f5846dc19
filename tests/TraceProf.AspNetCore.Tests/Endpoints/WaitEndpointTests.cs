using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TraceProf.AspNetCore.Endpoints;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>
/// <c>/debug/requests</c> and <c>/debug/pprof/tasks</c> through real HTTP on Kestrel, a real flight recorder (so the
/// timeline tracks requests), real heap snapshots and go tool pprof: an async pile-up is seen, then gone.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class WaitEndpointTests
{
    private const int N = 6;

    [SkippableFact]
    public async Task PileUp_OnOneGate_IsOneGroupOfN_ListedAsNRequests_AndBothEmptyAfterTheGateOpens()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TraceProfHost.StartAsync(
            o => o.FlightRecorder.Enabled = true,
            configureApp: app => app.MapGet("/pileup", async () => Results.Ok(await PileUpChain.OuterCheckoutAsync(gate.Task))));
        await WaitForAsync(host, "tracking", doc => doc.RootElement.GetProperty("tracking").GetBoolean());
        Assert.Equal("hello", await host.Client.GetStringAsync(new Uri("/hello", UriKind.Relative))); // routing warmed up

        var pending = Enumerable.Range(0, N).Select(_ => host.Client.GetStringAsync(new Uri("/pileup", UriKind.Relative))).ToArray();
        // Listed as soon as they arrive, on a thread until each reaches its await: wait until all N are awaiting.
        var listed = await WaitForAsync(host, $"{N} requests on /pileup, all awaiting", doc => doc.RootElement.GetProperty("total").GetInt32() == N
            && doc.RootElement.GetProperty("requests").EnumerateArray().All(r => r.GetProperty("state").GetString() == "awaiting"), "?route=/pileup");
        var traceIds = listed.RootElement.GetProperty("requests").EnumerateArray().Select(r => r.GetProperty("traceId").GetString()!).ToHashSet();
        Assert.Equal(N, traceIds.Count);
        Assert.All(listed.RootElement.GetProperty("requests").EnumerateArray(), r =>
        {
            Assert.Equal("GET", r.GetProperty("method").GetString());
            Assert.Equal("awaiting", r.GetProperty("state").GetString());
            Assert.True(r.GetProperty("ageMs").GetDouble() >= 0);
        });

        var inner = typeof(PileUpChain).FullName!.Replace('+', '.') + ".InnerChargeAsync";
        var outer = typeof(PileUpChain).FullName!.Replace('+', '.') + ".OuterCheckoutAsync";
        using (var text = await host.Client.SendAsync(Requests.Get("/debug/pprof/tasks?debug=1", "admin")))
        {
            Assert.Equal(HttpStatusCode.OK, text.StatusCode);
            var body = await text.Content.ReadAsStringAsync();
            Assert.StartsWith("tasks profile: total ", body, StringComparison.Ordinal);
            Assert.Contains($"\n{N} @ awaiting TaskCompletionSource\n#\t{inner}\n#\t{outer}\n", body, StringComparison.Ordinal);
        }

        using (var perChain = await host.Client.SendAsync(Requests.Get("/debug/pprof/tasks?debug=2", "admin")))
        {
            var body = await perChain.Content.ReadAsStringAsync();
            var chains = Regex.Matches(body, @"task chain \d+ \[awaiting TaskCompletionSource\] trace ([0-9a-f]{32}) span [0-9a-f]{16} GET /pileup:\n\t" + Regex.Escape(inner));
            Assert.Equal(traceIds.Order(), chains.Select(m => m.Groups[1].Value).Order());
        }

        using (var pprof = await host.Client.SendAsync(Requests.Get("/debug/pprof/tasks", "admin")))
        {
            Assert.Equal(HttpStatusCode.OK, pprof.StatusCode);
            var bytes = await pprof.Content.ReadAsByteArrayAsync();
            var profile = CpuProfileEndpointTests.Decode(bytes);
            Assert.Equal("tasks", profile.StringTable[(int)profile.SampleType[0].Type]);
            Assert.Contains(inner, profile.StringTable);
            var go = GoToolPprofTests.FindOnPath("go");
            if (go is not null)
            {
                var file = Path.Combine(host.StoragePath, "tasks.pb.gz");
                await File.WriteAllBytesAsync(file, bytes);
                var top = await GoToolPprofTests.RunAsync(go, $"tool pprof -top -nodecount=500 {file}");
                var line = top.Split('\n').Single(l => l.TrimEnd().EndsWith(inner, StringComparison.Ordinal));
                Assert.StartsWith($"{N} ", line.TrimStart(), StringComparison.Ordinal);
            }
        }

        // The trace page says where one of them waits: in flight, awaiting, and the chain from the tasks snapshot.
        var oneTrace = traceIds.First();
        using (var page = await host.Client.SendAsync(Requests.Get($"/debug/ui/traces/{oneTrace}", "admin")))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains("Where it waits", html, StringComparison.Ordinal);
            Assert.Contains("GET /pileup", html, StringComparison.Ordinal);
            Assert.Contains("awaiting (on no thread)", html, StringComparison.Ordinal);
            Assert.Matches($"awaiting <strong>TaskCompletionSource</strong></p><ol class=\"chain\"><li><code>{Regex.Escape(inner)}</code></li><li><code>{Regex.Escape(outer)}</code></li>", html);
        }

        gate.SetResult();
        Assert.All(await Task.WhenAll(pending), r => Assert.Contains("charged", r, StringComparison.Ordinal));
        await WaitForAsync(host, "no request on /pileup", doc => doc.RootElement.GetProperty("total").GetInt32() == 0, "?route=/pileup");
        using var after = await host.Client.SendAsync(Requests.Get("/debug/pprof/tasks?debug=1", "admin"));
        Assert.DoesNotContain(inner, await after.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Skip.If(GoToolPprofTests.FindOnPath("go") is null, "'go' is not on PATH, so 'go tool pprof' was not run; install it (apt-get install golang-go).");
    }

    [Fact]
    public async Task Requests_WithoutTheTimelineRecording_SaysNothingIsTracked()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get("/debug/requests", "admin"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(doc.RootElement.GetProperty("tracking").GetBoolean());
        Assert.Contains("FlightRecorder", doc.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/debug/pprof/tasks?debug=3", "debug must be given once as 0")]
    [InlineData("/debug/pprof/tasks?debug=1&debug=2", "debug must be given once as 0")]
    [InlineData("/debug/pprof/tasks?debug=01", "debug must be given once as 0")]
    [InlineData("/debug/pprof/tasks?seconds=5", "one moment")]
    [InlineData("/debug/pprof/tasks?format=nettrace", "no raw trace")]
    [InlineData("/debug/pprof/tasks?format=bogus", "format must be one of")]
    [InlineData("/debug/pprof/tasks?debug=1&format=folded", "not both")]
    [InlineData("/debug/requests?limit=0", "limit must be an integer from 1 to 10000")]
    [InlineData("/debug/requests?limit=10001", "limit must be an integer from 1 to 10000")]
    [InlineData("/debug/requests?limit=abc", "limit must be an integer from 1 to 10000")]
    [InlineData("/debug/requests?route=", "route must be given once")]
    public async Task BadParameters_Return400ProblemDetails_BeforeAnythingRuns(string path, string detail)
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get(path, "admin"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
        using var list = await host.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        using var rows = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        Assert.Empty(rows.RootElement.GetProperty("snapshots").EnumerateArray());
    }

    [Theory]
    [InlineData("/debug/pprof/tasks", "sre:profile")]
    [InlineData("/debug/requests", "sre:profile")]
    [InlineData("/debug/requests", "readonly")]
    public async Task RoleWithoutThreads_Returns403ProblemDetails(string path, string role)
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get(path, role));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [SkippableFact]
    public async Task Tasks_WhileAHeapWalkRuns_Returns429WithRetryAfter()
    {
        await using var host = await TraceProfHost.StartAsync();
        var responses = await Task.WhenAll(
            host.Client.SendAsync(Requests.Get("/debug/pprof/heap", "admin")),
            host.Client.SendAsync(Requests.Get("/debug/pprof/tasks", "admin")),
            host.Client.SendAsync(Requests.Get("/debug/pprof/tasks", "admin")));
        try
        {
            Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
            Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r =>
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode);
                Assert.NotNull(r.Headers.RetryAfter);
                Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            });
            Skip.If(responses.All(r => r.StatusCode == HttpStatusCode.OK), "the heap walks ran one after another on this machine; nothing to refuse");
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    private static async Task<JsonDocument> WaitForAsync(TraceProfHost host, string what, Func<JsonDocument, bool> done, string query = "")
    {
        // Not a timing assert: polls until the state is reached, and fails only after a generous minute.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            using var response = await host.Client.SendAsync(Requests.Get("/debug/requests" + query, "admin"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            if (done(doc))
            {
                return doc;
            }

            Assert.True(DateTime.UtcNow < deadline, $"/debug/requests never showed {what}: {doc.RootElement}");
            doc.Dispose();
            await Task.Delay(100);
        }
    }

    internal static class PileUpChain
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static async Task<string> OuterCheckoutAsync(Task gate) => $"order {await InnerChargeAsync(gate)}";

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static async Task<string> InnerChargeAsync(Task gate)
        {
            await gate;
            return "charged";
        }
    }
}
