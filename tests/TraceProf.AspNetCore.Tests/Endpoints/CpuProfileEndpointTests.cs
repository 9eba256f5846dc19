using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using TraceProf.AspNetCore.Tests.Infrastructure;
using PprofProfile = TraceProf.Encoding.Pprof.Profile;

namespace TraceProf.AspNetCore.Tests.Endpoints;

[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class CpuProfileEndpointTests
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string Traceparent = "00-" + TraceId + "-00f067aa0ba902b7-01";

    [Fact]
    public async Task CpuProfile_HotMethodIsAmongTopFrames_AndProfileIsWellFormed()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var hot = new HotLoop();

        // EventPipe's sampler (cpu and wall columns), whichever sampler the host chose; the perf_event shape is below.
        using var response = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=2&sampler=eventpipe", "sre:profile", traceparent: Traceparent));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TraceId, Assert.Single(response.Headers.GetValues("X-TraceProf-Trace-Id")));
        var profile = Decode(await response.Content.ReadAsByteArrayAsync());
        string S(long index) => profile.StringTable[(int)index];

        Assert.Equal("", profile.StringTable[0]);
        Assert.Equal(profile.StringTable.Count, profile.StringTable.Distinct().Count());
        Assert.Equal(["samples/count", "cpu/nanoseconds", "wall/nanoseconds"], profile.SampleType.Select(t => $"{S(t.Type)}/{S(t.Unit)}"));
        Assert.Equal("cpu", S(profile.DefaultSampleType));
        Assert.Equal("cpu/nanoseconds", $"{S(profile.PeriodType.Type)}/{S(profile.PeriodType.Unit)}");
        Assert.True(profile.Period > 0);
        Assert.True(profile.DurationNanos >= TimeSpan.FromSeconds(1).Ticks * 100, $"duration_nanos {profile.DurationNanos}");
        Assert.InRange(profile.TimeNanos, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds() * 1_000_000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000);
        // Overloads and instantiations share a display name on purpose; each keeps its own system_name.
        Assert.Equal(profile.Function.Count, profile.Function.Select(f => (S(f.Name), S(f.SystemName))).Distinct().Count());
        Assert.All(profile.Location, l => Assert.NotEqual(0ul, l.Id));
        Assert.All(profile.Sample, s =>
        {
            Assert.Contains(s.Label, l => S(l.Key) == "thread_id" && long.TryParse(S(l.Str), out _));
            Assert.Contains(s.Label, l => S(l.Key) == "capture_trace_id" && S(l.Str) == TraceId);
        });

        // Rank functions by CPU samples on stack (flat+cum style: any frame of the sample).
        var functionNames = profile.Function.ToDictionary(f => f.Id, f => S(f.Name));
        var locationFunction = profile.Location.ToDictionary(l => l.Id, l => functionNames[l.Line[0].FunctionId]);
        var leafCpu = profile.Sample
            .Where(s => s.Value[1] > 0)
            .GroupBy(s => locationFunction[s.LocationId[0]])
            .Select(g => (Name: g.Key, Cpu: g.Sum(s => s.Value[1])))
            .OrderByDescending(x => x.Cpu)
            .ToList();
        var top = leafCpu.Take(5).Select(x => x.Name).ToList();
        Assert.True(top.Any(n => n.Contains(HotLoop.MethodName, StringComparison.Ordinal)), $"top leaf frames by cpu: {string.Join(" | ", top)}");
        Assert.True(profile.Sample.Sum(s => s.Value[2]) >= profile.Sample.Sum(s => s.Value[1]), "wall ≥ cpu");
    }

    [SkippableFact]
    public async Task CpuProfile_PerfSampler_HotMethodOnTop_OnCpuColumnsOnly_AndTheIndexSaysPerf()
    {
        var (available, reason) = TraceProf.Capture.PerfEventCpuSampler.Probe();
        Skip.IfNot(available, "perf_event is not available here: " + reason);
        await using var host = await TraceProfHost.StartAsync(o => o.Cpu.Sampler = "perf");
        using var hot = new HotLoop();

        using var response = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=2", "sre:profile", traceparent: Traceparent));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var profile = Decode(await response.Content.ReadAsByteArrayAsync());
        string S(long index) => profile.StringTable[(int)index];
        Assert.Equal(["samples/count", "cpu/nanoseconds"], profile.SampleType.Select(t => $"{S(t.Type)}/{S(t.Unit)}"));
        Assert.Equal("cpu", S(profile.DefaultSampleType));
        Assert.Equal(10_000_000, profile.Period);
        var functionNames = profile.Function.ToDictionary(f => f.Id, f => S(f.Name));
        var locationFunction = profile.Location.ToDictionary(l => l.Id, l => functionNames[l.Line[0].FunctionId]);
        var top = profile.Sample.GroupBy(s => locationFunction[s.LocationId[0]]).OrderByDescending(g => g.Sum(s => s.Value[1])).Take(5).Select(g => g.Key).ToList();
        Assert.True(top.Any(n => n.Contains(HotLoop.MethodName, StringComparison.Ordinal)), $"top leaf frames by cpu: {string.Join(" | ", top)}");
        Assert.Contains(profile.Comment.Select(S), c => c.Contains("perf_event sampler", StringComparison.Ordinal));

        using var index = await host.Client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
        using var doc = JsonDocument.Parse(await index.Content.ReadAsStringAsync());
        Assert.Equal("perf", doc.RootElement.GetProperty("cpuSampler").GetProperty("active").GetString());
        Assert.Contains("perf_event_open works", doc.RootElement.GetProperty("cpuSampler").GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CpuSampler_ForcedEventPipe_IndexSaysSoAndHowToEnablePerf_AndAnUnknownSamplerParameterIs400()
    {
        await using var host = await TraceProfHost.StartAsync(o => o.Cpu.Sampler = "eventpipe");
        using var index = await host.Client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
        using var doc = JsonDocument.Parse(await index.Content.ReadAsStringAsync());
        Assert.Equal("eventpipe", doc.RootElement.GetProperty("cpuSampler").GetProperty("active").GetString());
        Assert.Contains("eventpipe", doc.RootElement.GetProperty("cpuSampler").GetProperty("reason").GetString(), StringComparison.Ordinal);

        var html = Requests.Get("/debug/pprof/", "admin");
        html.Headers.Accept.ParseAdd("text/html");
        using var page = await host.Client.SendAsync(html);
        var text = await page.Content.ReadAsStringAsync();
        Assert.Contains("CPU sampler: <strong>eventpipe</strong>", text, StringComparison.Ordinal);
        Assert.Contains("CAP_PERFMON", text, StringComparison.Ordinal);

        using var bad = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1&sampler=kernel", "admin"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("sampler must be perf", await ProblemResponses.DetailAsync(bad), StringComparison.Ordinal);

        // perf asked for on a host that samples with EventPipe: refused with the reason, nothing captured.
        using var perf = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1&sampler=perf", "admin"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, perf.StatusCode);
    }

    [Fact]
    public async Task CpuSampler_UnknownSetting_FailsTheStartNamingIt()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => TraceProfHost.StartAsync(o => o.Cpu.Sampler = "kernel"));
        Assert.Contains("TraceProf:Cpu:Sampler must be auto, perf or eventpipe", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CpuProfile_IsStoredUnderCallersTraceId_AndServedInEveryFormat()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var hot = new HotLoop();
        using var capture = await host.Client.SendAsync(Requests.Get("/debug/pprof/profile?seconds=1&format=folded", "admin", traceparent: Traceparent));
        Assert.Equal(HttpStatusCode.OK, capture.StatusCode);
        Assert.Equal("text/plain", capture.Content.Headers.ContentType?.MediaType);
        var snapshotId = Assert.Single(capture.Headers.GetValues("X-TraceProf-Snapshot-Id"));
        Assert.Contains(HotLoop.MethodName, await capture.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var list = await host.Client.SendAsync(Requests.Get($"/debug/snapshots?traceId={TraceId}", "admin"));
        using var rows = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        var row = Assert.Single(rows.RootElement.GetProperty("snapshots").EnumerateArray());
        Assert.Equal(snapshotId, row.GetProperty("id").GetString());
        Assert.Equal("cpu", row.GetProperty("kind").GetString());
        Assert.Equal("TraceProf.AspNetCore.Tests", row.GetProperty("serviceName").GetString());
        Assert.True(row.GetProperty("nettraceBytes").GetInt64() > 0);
        Assert.True(row.GetProperty("profileBytes").GetInt64() > 0);

        foreach (var (format, mediaType, extension) in new[]
        {
            ("pprof", "application/octet-stream", ".pb.gz"),
            ("speedscope", "application/json", ".speedscope.json"),
            ("folded", "text/plain", ".folded.txt"),
            ("nettrace", "application/octet-stream", ".nettrace"),
        })
        {
            using var one = await host.Client.SendAsync(Requests.Get($"/debug/snapshots/{snapshotId}?format={format}", "admin"));
            Assert.Equal(HttpStatusCode.OK, one.StatusCode);
            Assert.Equal(mediaType, one.Content.Headers.ContentType?.MediaType);
            Assert.EndsWith(extension, one.Content.Headers.ContentDisposition?.FileName?.Trim('"'), StringComparison.Ordinal);
            Assert.Equal("nosniff", Assert.Single(one.Headers.GetValues("X-Content-Type-Options")));
            var bytes = await one.Content.ReadAsByteArrayAsync();
            switch (format)
            {
                case "pprof":
                    Assert.Contains(Decode(bytes).StringTable, s => s.Contains(HotLoop.MethodName, StringComparison.Ordinal));
                    break;
                case "speedscope":
                    using (var doc = JsonDocument.Parse(bytes))
                    {
                        Assert.Contains(doc.RootElement.GetProperty("shared").GetProperty("frames").EnumerateArray(), f => f.GetProperty("name").GetString()!.Contains(HotLoop.MethodName, StringComparison.Ordinal));
                    }

                    break;
                case "nettrace":
                    Assert.Equal("Nettrace", System.Text.Encoding.ASCII.GetString(bytes, 0, 8));
                    break;
                default:
                    break;
            }
        }
    }

    [Fact]
    public async Task Snapshots_SurviveRestart()
    {
        var storage = Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        try
        {
            string snapshotId;
            await using (var first = await TraceProfHost.StartAsync(storagePath: storage))
            {
                using var capture = await first.Client.SendAsync(Requests.Get("/debug/profile?seconds=1", "admin", traceparent: Traceparent));
                Assert.Equal(HttpStatusCode.OK, capture.StatusCode);
                snapshotId = Assert.Single(capture.Headers.GetValues("X-TraceProf-Snapshot-Id"));
            }

            await using var second = await TraceProfHost.StartAsync(storagePath: storage);
            using var again = await second.Client.SendAsync(Requests.Get($"/debug/snapshots/{snapshotId}?format=pprof", "admin"));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.NotEmpty(Decode(await again.Content.ReadAsByteArrayAsync()).Sample);
        }
        finally
        {
            TraceProfHost.DeleteStorage(storage);
        }
    }

    [Fact]
    public async Task SecondCpuCapture_WhileOneRuns_Gets429WithRetryAfter()
    {
        await using var host = await TraceProfHost.StartAsync();
        var first = host.Client.SendAsync(Requests.Get("/debug/profile?seconds=3", "admin"));
        var second = host.Client.SendAsync(Requests.Get("/debug/profile?seconds=3", "admin"));
        using var a = await first;
        using var b = await second;

        var statuses = new[] { a.StatusCode, b.StatusCode }.Order().ToArray();
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        var refused = a.StatusCode == HttpStatusCode.TooManyRequests ? a : b;
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "Retry-After in seconds");
    }

    [Fact]
    public async Task ClientAbort_StopsSession_FreesSlot_LeavesNothingBehind()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var abort = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var aborted = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            host.Client.SendAsync(Requests.Get("/debug/profile?seconds=60", "admin", traceparent: Traceparent), abort.Token));

        // The slot frees as soon as the session has stopped; measure how soon a new capture is accepted.
        HttpStatusCode status;
        TimeSpan freedAfter;
        do
        {
            freedAfter = aborted.Elapsed - TimeSpan.FromSeconds(2);
            using var next = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1", "admin"));
            status = next.StatusCode;
            if (status == HttpStatusCode.TooManyRequests)
            {
                await Task.Delay(100);
            }
        }
        while (status == HttpStatusCode.TooManyRequests && aborted.Elapsed < TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(freedAfter < TimeSpan.FromSeconds(10), $"slot freed {freedAfter.TotalMilliseconds:F0} ms after the abort");

        using var list = await host.Client.SendAsync(Requests.Get($"/debug/snapshots?traceId={TraceId}", "admin"));
        using var rows = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        Assert.Equal(0, rows.RootElement.GetProperty("count").GetInt32());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(host.StoragePath, "tmp")));
    }

    internal static PprofProfile Decode(byte[] gzipped)
    {
        using var gzip = new GZipStream(new MemoryStream(gzipped), CompressionMode.Decompress);
        return PprofProfile.Parser.ParseFrom(gzip);
    }
}
