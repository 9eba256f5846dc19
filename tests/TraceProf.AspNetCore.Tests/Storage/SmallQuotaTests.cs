using System.Net;
using System.Text.Json;
using TraceProf.AspNetCore.Tests.Endpoints;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Storage;

/// <summary>Issue 16, fault 9: a quota too small for the raw trace still keeps the profile.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class SmallQuotaTests
{
    [Fact]
    public async Task OneMegabyteQuota_CpuCaptureIsStoredWithoutItsNettrace_AndTheNettraceDownloadSaysWhy()
    {
        await using var host = await TraceProfHost.StartAsync(o => o.Storage.MaxTotalMegabytes = 1);
        using var hot = new HotLoop();

        using var capture = await host.Client.SendAsync(Requests.Get("/debug/pprof/profile?seconds=2", "admin"));
        Assert.Equal(HttpStatusCode.OK, capture.StatusCode);
        Assert.NotEmpty(CpuProfileEndpointTests.Decode(await capture.Content.ReadAsByteArrayAsync()).Sample);
        var id = Assert.Single(capture.Headers.GetValues("X-TraceProf-Snapshot-Id"));

        using var list = await host.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        using var rows = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        var row = Assert.Single(rows.RootElement.GetProperty("snapshots").EnumerateArray());
        Assert.Equal(id, row.GetProperty("id").GetString());
        Assert.Equal(0, row.GetProperty("nettraceBytes").GetInt64());
        Assert.True(row.GetProperty("profileBytes").GetInt64() > 0);
        Assert.Contains("raw trace", row.GetProperty("nettraceOmitted").GetString(), StringComparison.Ordinal);

        using var nettrace = await host.Client.SendAsync(Requests.Get($"/debug/snapshots/{id}?format=nettrace", "admin"));
        Assert.Equal(HttpStatusCode.NotFound, nettrace.StatusCode);
        var detail = JsonDocument.Parse(await nettrace.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();
        Assert.Contains("was not stored", detail, StringComparison.Ordinal);
        Assert.Contains("TraceProf:Storage:MaxTotalMegabytes", detail, StringComparison.Ordinal);

        using var pprof = await host.Client.SendAsync(Requests.Get($"/debug/snapshots/{id}?format=pprof", "admin"));
        Assert.Equal(HttpStatusCode.OK, pprof.StatusCode);
        Assert.NotEmpty(CpuProfileEndpointTests.Decode(await pprof.Content.ReadAsByteArrayAsync()).Sample);
    }
}
