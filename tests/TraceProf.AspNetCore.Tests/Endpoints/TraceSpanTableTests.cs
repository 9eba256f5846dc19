using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.AspNetCore.Tests.Triggers;
using Xunit.Abstractions;
using PprofProfile = TraceProf.Encoding.Pprof.Profile;
using PprofSample = TraceProf.Encoding.Pprof.Sample;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>
/// The span table (<c>/traces/{traceId}/spans</c>), <c>?spanId=</c> filters, and merged views that count each sample
/// once, through real captures on a real host.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class TraceSpanTableTests(ITestOutputHelper output)
{
    private const string TraceA = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
    private const string TraceB = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";

    [Fact]
    public async Task TwoConcurrentTracesWithNestedSpans_EachRowHasItsOwnHotMethodOnTop_AndSpanIdFilters()
    {
        await using var host = await TraceProfHost.StartAsync(configureApp: app =>
            app.MapGet("/nested/{name}", (string name) => NestedSpanWork.RunAsync(name)));

        var capture = host.Client.SendAsync(Requests.Get("/debug/profile?seconds=4", "admin"));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var a = host.Client.SendAsync(Requests.Get("/nested/a", traceparent: $"00-{TraceA}-1111111111111111-01"));
        var b = host.Client.SendAsync(Requests.Get("/nested/b", traceparent: $"00-{TraceB}-2222222222222222-01"));
        using var responseA = await a;
        using var responseB = await b;
        using var captured = await capture;
        Assert.Equal(HttpStatusCode.OK, responseA.StatusCode);
        Assert.Equal(HttpStatusCode.OK, captured.StatusCode);
        var snapshotId = Assert.Single(captured.Headers.GetValues("X-TraceProf-Snapshot-Id"));

        foreach (var (trace, name, other) in new[] { (TraceA, "A", "B"), (TraceB, "B", "A") })
        {
            using var response = await host.Client.SendAsync(Requests.Get($"/debug/traces/{trace}/spans", "admin"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var json = await response.Content.ReadAsStringAsync();
            output.WriteLine(json);
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            Assert.Equal(trace, root.GetProperty("traceId").GetString());
            Assert.Equal([snapshotId], root.GetProperty("snapshots").GetProperty("cpu").EnumerateArray().Select(e => e.GetString()));
            var spans = root.GetProperty("spans").EnumerateArray().ToList();
            Assert.Equal(spans.Count, root.GetProperty("count").GetInt32());
            Assert.False(root.GetProperty("truncated").GetBoolean());

            // The request span (tracked: its own start and end) and the inner span it opened (first to last sample).
            var request = Assert.Single(spans, s => s.GetProperty("route").GetString() == "/nested/{name}" && s.GetProperty("durationSource").GetString() == "span");
            var inner = Assert.Single(spans, s => s.GetProperty("durationSource").GetString() == "samples" && Top(s).Contains($"InnerFor{name}", StringComparison.Ordinal));
            Assert.Contains($"OuterFor{name}", Top(request), StringComparison.Ordinal);
            Assert.Equal(request.GetProperty("spanId").GetString(), request.GetProperty("localRootSpanId").GetString());
            Assert.Equal(request.GetProperty("spanId").GetString(), inner.GetProperty("localRootSpanId").GetString());
            Assert.NotEqual(request.GetProperty("spanId").GetString(), inner.GetProperty("spanId").GetString());
            Assert.Equal("GET", request.GetProperty("method").GetString());
            Assert.DoesNotContain(spans, s => s.GetProperty("topFrames").EnumerateArray().Any(f => f.GetProperty("function").GetString()!.Contains($"For{other}", StringComparison.Ordinal)));

            foreach (var span in spans)
            {
                Assert.Equal("TraceProf.AspNetCore.Tests", span.GetProperty("serviceName").GetString());
                Assert.Matches("^[0-9a-f]{16}$", span.GetProperty("spanId").GetString());
                Assert.True(DateTimeOffset.TryParse(span.GetProperty("start").GetString(), out _));
                Assert.True(span.GetProperty("durationMs").GetDouble() >= 0);
                Assert.True(span.GetProperty("samples").GetInt64() > 0);
                // EventPipe's sampler has a wall column (wall ≥ cpu); the perf_event sampler has none: null, never 0.
                if (span.GetProperty("wallMs").ValueKind == JsonValueKind.Null)
                {
                    Assert.True(TraceProf.Capture.PerfEventCpuSampler.Probe().Available, "wallMs is null only under the perf_event sampler");
                }
                else
                {
                    Assert.True(span.GetProperty("wallMs").GetDouble() >= span.GetProperty("cpuMs").GetDouble());
                }
                Assert.Equal(JsonValueKind.Null, span.GetProperty("waitMs").ValueKind);
                Assert.Equal(JsonValueKind.Null, span.GetProperty("allocatedBytes").ValueKind);
                Assert.StartsWith($"/debug/traces/{trace}?spanId=", span.GetProperty("profile").GetString(), StringComparison.Ordinal);
                var share = span.GetProperty("topFrames")[0].GetProperty("share").GetDouble();
                Assert.InRange(share, 0.3, 1.0);
            }

            // Sorted by start: the request began before the span it opened.
            Assert.True(spans.IndexOf(request) < spans.IndexOf(inner));
            Assert.True(request.GetProperty("durationMs").GetDouble() >= 500, $"the request ran ≥ 600 ms; the table says {request.GetProperty("durationMs").GetDouble()}");

            // ?spanId= keeps only that span's samples: in pprof, speedscope, and on the stored snapshot.
            var innerId = inner.GetProperty("spanId").GetString()!;
            using var pprof = await host.Client.SendAsync(Requests.Get($"/debug/traces/{trace}?spanId={innerId}", "admin"));
            Assert.Equal(HttpStatusCode.OK, pprof.StatusCode);
            var profile = CpuProfileEndpointTests.Decode(await pprof.Content.ReadAsByteArrayAsync());
            Assert.NotEmpty(profile.Sample);
            Assert.All(profile.Sample, s => Assert.Equal(innerId, Label(profile, s, "span_id")));
            Assert.Contains(profile.Sample, s => Frames(profile, s).Any(f => f.Contains($"InnerFor{name}", StringComparison.Ordinal)));
            Assert.DoesNotContain(profile.Sample, s => Frames(profile, s).Any(f => f.Contains("OuterFor", StringComparison.Ordinal) || f.Contains($"For{other}", StringComparison.Ordinal)));

            using var speedscope = await host.Client.SendAsync(Requests.Get($"/debug/traces/{trace}?spanId={innerId}&format=speedscope", "admin"));
            var speedscopeText = await speedscope.Content.ReadAsStringAsync();
            Assert.Contains($"InnerFor{name}", speedscopeText, StringComparison.Ordinal);
            Assert.DoesNotContain($"OuterFor{name}", speedscopeText, StringComparison.Ordinal);

            using var folded = await host.Client.SendAsync(Requests.Get($"/debug/snapshots/{snapshotId}?spanId={request.GetProperty("spanId").GetString()}&format=folded", "admin"));
            var foldedText = await folded.Content.ReadAsStringAsync();
            Assert.Contains($"OuterFor{name}", foldedText, StringComparison.Ordinal);
            Assert.DoesNotContain($"InnerFor{name}", foldedText, StringComparison.Ordinal);
        }

        using var limited = await host.Client.SendAsync(Requests.Get($"/debug/traces/{TraceA}/spans?limit=1", "admin"));
        using (var doc = JsonDocument.Parse(await limited.Content.ReadAsStringAsync()))
        {
            Assert.Equal(1, doc.RootElement.GetProperty("count").GetInt32());
            Assert.True(doc.RootElement.GetProperty("truncated").GetBoolean());
            Assert.Equal(2, doc.RootElement.GetProperty("totalSpans").GetInt32());
        }
    }

    [Theory]
    [InlineData("/debug/traces/a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1?spanId=XYZ", "spanId must be a W3C span id")]
    [InlineData("/debug/traces/a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1?spanId=0000000000000000", "spanId must be a W3C span id")]
    [InlineData("/debug/traces/a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1?spanId=ABCDEF0123456789", "spanId must be a W3C span id")]
    [InlineData("/debug/traces/a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1?spanId=1&spanId=2", "spanId")]
    [InlineData("/debug/snapshots/0123456789abcdef0123456789abcdef?spanId=123", "spanId must be a W3C span id")]
    [InlineData("/debug/traces/not-a-trace/spans", "A trace id is 32 lower-case hex digits")]
    [InlineData("/debug/traces/a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1/spans?limit=0", "limit must be an integer from 1 to 1000")]
    [InlineData("/debug/traces/a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1/spans?limit=1001", "limit must be an integer from 1 to 1000")]
    public async Task BadIdsAndLimits_Answer400ProblemJson(string path, string detail)
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get(path, "admin"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownTrace_SpansAnswer404()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get("/debug/traces/cccccccccccccccccccccccccccccccc/spans", "admin"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var readonlyRole = await host.Client.SendAsync(Requests.Get("/debug/traces/cccccccccccccccccccccccccccccccc/spans", "sre:profile"));
        Assert.Equal(HttpStatusCode.Forbidden, readonlyRole.StatusCode);
    }

    [Fact]
    public async Task DamagedProfileFile_TraceViewsLeaveItOut_AndDoNotFail()
    {
        await using var host = await TraceProfHost.StartAsync();
        const string trace = "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4";
        var store = host.Services.GetRequiredService<TraceProf.Storage.ISnapshotStore>();
        var file = Path.Combine(host.StoragePath, "damaged.pb.gz");
        Directory.CreateDirectory(host.StoragePath);
        await File.WriteAllBytesAsync(file, [0x1f, 0x8b, 1, 2, 3, 4]);
        await store.AddAsync(
            new TraceProf.Storage.SnapshotInfo
            {
                Id = TraceProf.Storage.SnapshotIds.NewId(TimeProvider.System),
                TraceId = trace,
                Kind = "cpu",
                Trigger = "request",
                ServiceName = "shop",
                HostName = "test-host",
                StartedAt = DateTimeOffset.UtcNow,
                Duration = TimeSpan.FromSeconds(1),
            },
            new Dictionary<TraceProf.Storage.SnapshotArtifact, string> { [TraceProf.Storage.SnapshotArtifact.Pprof] = file },
            CancellationToken.None);

        using var spans = await host.Client.SendAsync(Requests.Get($"/debug/traces/{trace}/spans", "admin"));
        Assert.Equal(HttpStatusCode.NotFound, spans.StatusCode);
        using var merged = await host.Client.SendAsync(Requests.Get($"/debug/traces/{trace}", "admin"));
        Assert.Equal(HttpStatusCode.NotFound, merged.StatusCode);
    }

    [Fact]
    public async Task OnDemandCaptureAndRecorderSnapshotOfOneFailingRequest_MergedTraceCountsItsSamplesOnce()
    {
        // EventPipe's sampler writes each tick to both sessions, so both snapshots hold the same events: what "each
        // sample once" is built on. (Two perf_event samplers sample independently: OverlapMergeTests covers their 100 ms windows.)
        await using var host = await TraceProfHost.StartAsync(o => (o.FlightRecorder.Enabled, o.Cpu.Sampler) = (true, "eventpipe"), configureApp: FlightRecorderServiceTests.MapWorkload);
        await FlightRecorderServiceTests.WaitUntilRecordingAsync(host.Client);

        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var capture = host.Client.SendAsync(Requests.Get("/debug/profile?seconds=3", "admin"));
        await Task.Delay(TimeSpan.FromSeconds(1));
        using (var failed = await host.Client.SendAsync(Requests.Get("/fail?ms=400", traceparent: $"00-{traceId}-3333333333333333-01")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }

        using var captured = await capture;
        Assert.Equal(HttpStatusCode.OK, captured.StatusCode);
        var onDemand = Assert.Single(captured.Headers.GetValues("X-TraceProf-Snapshot-Id"));
        var recorded = (await FlightRecorderServiceTests.WaitForSnapshotAsync(host.Client, traceId, "cpu")).GetProperty("id").GetString()!;
        for (var i = 0; recorded == onDemand && i < 50; i++)
        {
            // The list is newest first: wait for the recorder's row, which may be stored after the capture's.
            await Task.Delay(200);
            using var list = await host.Client.SendAsync(Requests.Get($"/debug/snapshots?traceId={traceId}&kind=cpu", "admin"));
            using var rows = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
            recorded = rows.RootElement.GetProperty("snapshots").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).FirstOrDefault(id => id != onDemand) ?? onDemand;
        }

        Assert.NotEqual(onDemand, recorded);
        var once = Total(await GetProfileAsync(host.Client, $"/debug/snapshots/{onDemand}?traceId={traceId}"));
        var alsoRecorded = Total(await GetProfileAsync(host.Client, $"/debug/snapshots/{recorded}?traceId={traceId}"));
        var mergedProfile = await GetProfileAsync(host.Client, $"/debug/traces/{traceId}");
        var merged = Total(mergedProfile);
        output.WriteLine($"request's samples: on-demand {once}, recorder {alsoRecorded}, merged {merged}");
        output.WriteLine(string.Join("\n", mergedProfile.Comment.Select(c => mergedProfile.StringTable[(int)c])));

        // Both snapshots hold the request; the merge keeps one copy (within one sample at a bucket edge).
        Assert.True(once >= 20, $"the request had only {once} samples in the capture");
        Assert.True(alsoRecorded >= once / 2, $"the recorder's cut holds {alsoRecorded} of the request's {once} samples: no overlap to test");
        Assert.InRange(merged, once - 1, once + 1);
        var comments = string.Join("\n", mergedProfile.Comment.Select(c => mergedProfile.StringTable[(int)c]));
        Assert.Contains(onDemand, comments, StringComparison.Ordinal);
        Assert.Contains(recorded, comments, StringComparison.Ordinal);
        Assert.Contains("already in another snapshot", comments, StringComparison.Ordinal);

        // The span table counts the same samples once too.
        using var spans = await host.Client.SendAsync(Requests.Get($"/debug/traces/{traceId}/spans", "admin"));
        using var doc = JsonDocument.Parse(await spans.Content.ReadAsStringAsync());
        Assert.InRange(doc.RootElement.GetProperty("spans").EnumerateArray().Sum(s => s.GetProperty("samples").GetInt64()), once - 1, once + 1);
    }

    private static string Top(JsonElement span) => span.GetProperty("topFrames")[0].GetProperty("function").GetString()!;

    private static long Total(PprofProfile profile) => profile.Sample.Sum(s => s.Value[0]);

    private static async Task<PprofProfile> GetProfileAsync(HttpClient client, string path)
    {
        using var response = await client.SendAsync(Requests.Get(path, "admin"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return CpuProfileEndpointTests.Decode(await response.Content.ReadAsByteArrayAsync());
    }

    private static string? Label(PprofProfile profile, PprofSample sample, string key) =>
        sample.Label.Where(l => profile.StringTable[(int)l.Key] == key).Select(l => profile.StringTable[(int)l.Str]).FirstOrDefault();

    private static IEnumerable<string> Frames(PprofProfile profile, PprofSample sample)
    {
        var names = profile.Function.ToDictionary(f => f.Id, f => profile.StringTable[(int)f.Name]);
        var locations = profile.Location.ToDictionary(l => l.Id, l => names[l.Line[0].FunctionId]);
        return sample.LocationId.Select(id => locations[id]);
    }
}

/// <summary>A request that burns in its own span, then opens an inner span and burns there, hopping threads.</summary>
internal static class NestedSpanWork
{
    public static double Sink;

    public static async Task<IResult> RunAsync(string name)
    {
        var a = name == "a";
        await BurnAsync(a ? OuterForA : OuterForB);
        using (new Activity("inner-work").Start())
        {
            await BurnAsync(a ? InnerForA : InnerForB);
        }

        return Results.Ok();
    }

    private static async Task BurnAsync(Action burn)
    {
        var until = Stopwatch.GetTimestamp() + (long)(0.6 * Stopwatch.Frequency);
        var round = 0;
        while (Stopwatch.GetTimestamp() < until)
        {
            burn();
            if (++round % 2 == 0)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(1);
            }
        }
    }

    // Each burns in its own body (tier-0 code inlines nothing), so each is the leaf of its own samples.
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void OuterForA()
    {
        var x = 0.0;
        for (var i = 1; i < 300_000; i++)
        {
            x += Math.Sqrt(i) / i;
        }

        Sink += x;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void OuterForB()
    {
        var x = 0.0;
        for (var i = 1; i < 300_000; i++)
        {
            x += Math.Sqrt(i) / i;
        }

        Sink += x;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void InnerForA()
    {
        var x = 0.0;
        for (var i = 1; i < 300_000; i++)
        {
            x += Math.Sqrt(i) / i;
        }

        Sink += x;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void InnerForB()
    {
        var x = 0.0;
        for (var i = 1; i < 300_000; i++)
        {
            x += Math.Sqrt(i) / i;
        }

        Sink += x;
    }
}
