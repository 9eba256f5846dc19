using System.Net;
using System.Runtime.CompilerServices;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>Every capture kind through real HTTP: it decodes with Google.Protobuf and opens with the real go tool pprof.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class CaptureKindEndpointTests
{
    [SkippableTheory]
    [InlineData("/debug/pprof/allocs?seconds=1", "alloc_space")]
    [InlineData("/debug/pprof/contention?seconds=1", "delay")]
    [InlineData("/debug/pprof/threads", "threads")]
    [InlineData("/debug/pprof/trace?seconds=1&format=pprof", "cpu")]
    public async Task CaptureKind_DecodesAndOpensInGoToolPprof(string path, string defaultSampleType)
    {
        await using var host = await TraceProfHost.StartAsync();
        using var hot = new HotLoop();
        using var fight = new LockFight();
        using var churn = new AllocationChurn();
        using var response = await host.Client.SendAsync(Requests.Get(path, "admin"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var profile = CpuProfileEndpointTests.Decode(bytes);
        Assert.Equal("", profile.StringTable[0]);
        Assert.Equal(defaultSampleType, profile.StringTable[(int)profile.DefaultSampleType]);
        Assert.NotEmpty(profile.Sample);

        var go = GoToolPprofTests.FindOnPath("go");
        Skip.If(go is null, "'go' is not on PATH, so 'go tool pprof' cannot be run; install it (apt-get install golang-go). .ci/run does.");
        var file = Path.Combine(host.StoragePath, "profile.pb.gz");
        await File.WriteAllBytesAsync(file, bytes);
        var top = await GoToolPprofTests.RunAsync(go!, $"tool pprof -top {file}");
        Assert.Contains($"Type: {defaultSampleType}", top, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Threads_ParkedThreadIsInPprofAndBothTextForms()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var release = new ManualResetEventSlim();
        using var parked = new ManualResetEventSlim();
        var thread = new Thread(() => ParkedForTheEndpoint.WaitHereDistinctively(parked, release)) { IsBackground = true, Name = "endpoint-parked" };
        thread.Start();
        parked.Wait();
        try
        {
            using var pprof = await host.Client.SendAsync(Requests.Get("/debug/pprof/threads", "admin"));
            var profile = CpuProfileEndpointTests.Decode(await pprof.Content.ReadAsByteArrayAsync());
            Assert.Contains(profile.StringTable, s => s.Contains("WaitHereDistinctively", StringComparison.Ordinal));
            Assert.Contains("endpoint-parked", profile.StringTable);

            using var grouped = await host.Client.SendAsync(Requests.Get("/debug/pprof/goroutine?debug=1", "admin"));
            Assert.Equal("text/plain", grouped.Content.Headers.ContentType?.MediaType);
            var groupedText = await grouped.Content.ReadAsStringAsync();
            Assert.StartsWith("threads profile: total ", groupedText, StringComparison.Ordinal);
            Assert.Contains("WaitHereDistinctively", groupedText, StringComparison.Ordinal);

            using var perThread = await host.Client.SendAsync(Requests.Get("/debug/pprof/threads?debug=2", "admin"));
            var perThreadText = await perThread.Content.ReadAsStringAsync();
            var block = perThreadText.Split("\n\n").Single(b => b.Contains("\"endpoint-parked\"", StringComparison.Ordinal));
            Assert.Contains("WaitHereDistinctively", block, StringComparison.Ordinal);

            // The stored snapshot answers debug=2 too.
            var snapshotId = Assert.Single(perThread.Headers.GetValues("X-TraceProf-Snapshot-Id"));
            using var stored = await host.Client.SendAsync(Requests.Get($"/debug/snapshots/{snapshotId}?debug=2", "admin"));
            Assert.Contains("endpoint-parked", await stored.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            release.Set();
            thread.Join();
        }
    }

    [Fact]
    public async Task Threads_StoresTheDumpsProfile_NotTheRundownCapture_UnlessNettraceIsAskedFor()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var dump = await host.Client.SendAsync(Requests.Get("/debug/pprof/threads", "admin"));
        Assert.Equal(HttpStatusCode.OK, dump.StatusCode);
        var id = Assert.Single(dump.Headers.GetValues("X-TraceProf-Snapshot-Id"));

        using var list = await host.Client.SendAsync(Requests.Get("/debug/snapshots?kind=threads", "admin"));
        using var json = System.Text.Json.JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        var row = json.RootElement.GetProperty("snapshots").EnumerateArray().Single(r => r.GetProperty("id").GetString() == id);
        Assert.Equal(0, row.GetProperty("nettraceBytes").GetInt64());
        Assert.True(row.GetProperty("profileBytes").GetInt64() > 0);
        Assert.Contains("is stored only when the capture is asked for with format=nettrace", row.GetProperty("nettraceOmitted").GetString(), StringComparison.Ordinal);

        // The dump still reads in every form it is offered in; only the raw capture is gone, and that says why.
        using var text = await host.Client.SendAsync(Requests.Get($"/debug/snapshots/{id}?debug=2", "admin"));
        Assert.StartsWith("thread ", await text.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var raw = await host.Client.SendAsync(Requests.Get($"/debug/snapshots/{id}?format=nettrace", "admin"));
        Assert.Equal(HttpStatusCode.NotFound, raw.StatusCode);
        var detail = await ProblemResponses.DetailAsync(raw);
        Assert.Contains("format=nettrace", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("MaxTotalMegabytes", detail, StringComparison.Ordinal);

        // Asked for, the raw capture is served and kept.
        using var asked = await host.Client.SendAsync(Requests.Get("/debug/pprof/threads?format=nettrace", "admin"));
        Assert.Equal("Nettrace", System.Text.Encoding.ASCII.GetString(await asked.Content.ReadAsByteArrayAsync(), 0, 8));
        var keptId = Assert.Single(asked.Headers.GetValues("X-TraceProf-Snapshot-Id"));
        using var kept = await host.Client.SendAsync(Requests.Get($"/debug/snapshots/{keptId}?format=nettrace", "admin"));
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
    }

    [Fact]
    public async Task Trace_DefaultsToRawNettrace()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get("/debug/pprof/trace?seconds=1", "admin"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith(".nettrace", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'), StringComparison.Ordinal);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal("Nettrace", System.Text.Encoding.ASCII.GetString(bytes, 0, 8));
    }

    [Fact]
    public async Task EachKind_HasItsOwnSlot()
    {
        await using var host = await TraceProfHost.StartAsync();
        var cpu = host.Client.SendAsync(Requests.Get("/debug/profile?seconds=2", "admin"));
        var contention = host.Client.SendAsync(Requests.Get("/debug/pprof/contention?seconds=2", "admin"));
        using var a = await cpu;
        using var b = await contention;
        Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        Assert.Equal(HttpStatusCode.OK, b.StatusCode);
    }
}

internal static class ParkedForTheEndpoint
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void WaitHereDistinctively(ManualResetEventSlim parked, ManualResetEventSlim release)
    {
        parked.Set();
        release.Wait();
    }
}
