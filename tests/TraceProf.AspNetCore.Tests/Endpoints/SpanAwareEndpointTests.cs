using PprofSample = TraceProf.Encoding.Pprof.Sample;
using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TraceProf.AspNetCore.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>Through real HTTP: each request's samples carry its trace, span and route, and go tool pprof can focus on one.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class SpanAwareEndpointTests(ITestOutputHelper output)
{
    private const string TraceA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1";
    private const string TraceB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";

    [SkippableFact]
    public async Task ConcurrentRequests_SamplesCarryTheirTraceAndRoute_AndTagfocusSeparatesThem()
    {
        await using var host = await TraceProfHost.StartAsync(configureApp: app =>
            app.MapGet("/burn/{name}", (string name, CancellationToken cancellationToken) => EndpointSpanWork.BurnAsync(name, TimeSpan.FromSeconds(2), cancellationToken)));

        var capture = host.Client.SendAsync(Requests.Get("/debug/profile?seconds=4", "admin"));

        // Let the session start before the requests do.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var a = host.Client.SendAsync(Requests.Get("/burn/a", traceparent: $"00-{TraceA}-1111111111111111-01"));
        var b = host.Client.SendAsync(Requests.Get("/burn/b", traceparent: $"00-{TraceB}-2222222222222222-01"));
        using var responseA = await a;
        using var responseB = await b;
        using var response = await capture;
        Assert.Equal(HttpStatusCode.OK, responseA.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var profile = CpuProfileEndpointTests.Decode(bytes);
        string S(long i) => profile.StringTable[(int)i];
        string? Label(PprofSample s, string key) => s.Label.Where(l => S(l.Key) == key).Select(l => S(l.Str)).FirstOrDefault();
        var names = profile.Function.ToDictionary(f => f.Id, f => S(f.Name));
        var locations = profile.Location.ToDictionary(l => l.Id, l => names[l.Line[0].FunctionId]);
        List<PprofSample> In(string method) => [.. profile.Sample.Where(s => s.LocationId.Any(id => locations[id].Contains(method, StringComparison.Ordinal)))];

        foreach (var (method, mine, other) in new[] { ("EndpointSpanWork.BurnForA", TraceA, TraceB), ("EndpointSpanWork.BurnForB", TraceB, TraceA) })
        {
            var samples = In(method);
            var total = samples.Sum(s => s.Value[0]);
            var right = samples.Where(s => Label(s, "trace_id") == mine).Sum(s => s.Value[0]);
            var wrong = samples.Where(s => Label(s, "trace_id") == other).Sum(s => s.Value[0]);
            output.WriteLine($"{method}: {right}/{total} samples carry its trace ({right * 100.0 / Math.Max(1, total):F1} %), {wrong} the other's");
            Assert.True(total >= 20, $"only {total} samples in {method}");
            Assert.True(right >= total * 0.95, $"{right} of {total} samples in {method} carry trace {mine}");
            Assert.True(wrong < total * 0.02, $"{wrong} of {total} samples in {method} carry trace {other}");
            var labelled = samples.First(s => Label(s, "trace_id") == mine);
            Assert.Equal("/burn/{name}", Label(labelled, "http.route"));
            Assert.Equal("GET", Label(labelled, "http.method"));
            Assert.Matches("^[0-9a-f]{16}$", Label(labelled, "span_id"));
            Assert.Matches("^[0-9a-f]{16}$", Label(labelled, "local_root_span_id"));
        }

        // The capture was requested under another trace, yet trace A finds it, and per-trace views keep only A.
        var snapshotId = Assert.Single(response.Headers.GetValues("X-TraceProf-Snapshot-Id"));
        using var list = await host.Client.SendAsync(Requests.Get($"/debug/snapshots?traceId={TraceA}", "admin"));
        Assert.Contains(snapshotId, await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        foreach (var path in new[] { $"/debug/snapshots/{snapshotId}?traceId={TraceA}&format=folded", $"/debug/traces/{TraceA}?format=folded" })
        {
            using var view = await host.Client.SendAsync(Requests.Get(path, "admin"));
            Assert.Equal(HttpStatusCode.OK, view.StatusCode);
            var folded = await view.Content.ReadAsStringAsync();
            Assert.Contains("BurnForA", folded, StringComparison.Ordinal);
            Assert.DoesNotContain("BurnForB", folded, StringComparison.Ordinal);
        }

        using var unknownTrace = await host.Client.SendAsync(Requests.Get("/debug/traces/cccccccccccccccccccccccccccccccc", "admin"));
        Assert.Equal(HttpStatusCode.NotFound, unknownTrace.StatusCode);

        var go = GoToolPprofTests.FindOnPath("go");
        Skip.If(go is null, "'go' is not on PATH, so 'go tool pprof' cannot be run; install it (apt-get install golang-go). .ci/run does.");
        var file = Path.Combine(host.StoragePath, "spans.pb.gz");
        await File.WriteAllBytesAsync(file, bytes);
        var focusedA = await GoToolPprofTests.RunAsync(go!, $"tool pprof -top -tagfocus=trace_id={TraceA} {file}");
        Assert.Contains("BurnForA", focusedA, StringComparison.Ordinal);
        Assert.DoesNotContain("BurnForB", focusedA, StringComparison.Ordinal);
    }
}

internal static class EndpointSpanWork
{
    public static double Sink;

    public static async Task<IResult> BurnAsync(string name, TimeSpan duration, CancellationToken cancellationToken)
    {
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var round = 0;
        while (Stopwatch.GetTimestamp() < until && !cancellationToken.IsCancellationRequested)
        {
            if (name == "a")
            {
                BurnForA();
            }
            else
            {
                BurnForB();
            }

            // Hop threads between bursts.
            if (++round % 2 == 0)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(1, CancellationToken.None);
            }
        }

        return Results.Ok(round);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void BurnForA() => Burn();

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void BurnForB() => Burn();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Burn()
    {
        var until = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 3 / 1000);
        var x = 0.0;
        while (Stopwatch.GetTimestamp() < until)
        {
            for (var i = 1; i < 1000; i++)
            {
                x += Math.Sqrt(i);
            }
        }

        Sink = x;
    }
}
