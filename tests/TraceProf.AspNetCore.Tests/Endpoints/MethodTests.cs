using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>
/// A capture takes GET only: HEAD (a link checker, a cache, <c>curl -I</c>) used to run a full capture and store a
/// snapshot. Checked under both placements, the pipeline-first middleware and <c>MapTraceProf</c>.
/// </summary>
public sealed class MethodTests
{
    private static readonly string[] CaptureRoutes =
    [
        "/debug/profile", "/debug/pprof/profile", "/debug/pprof/allocs", "/debug/pprof/contention", "/debug/pprof/mutex",
        "/debug/pprof/block", "/debug/pprof/threads", "/debug/pprof/goroutine", "/debug/pprof/trace",
    ];

    public static TheoryData<string> Placements => new() { "middleware", "MapTraceProf" };

    private static Task<TraceProfHost> StartAsync(string placement) =>
        TraceProfHost.StartAsync(configureApp: placement == "MapTraceProf" ? app => app.MapTraceProf() : null);

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task Head_OnEveryCaptureRoute_Returns405WithAllowGet_AndStoresNoSnapshot(string placement)
    {
        await using var host = await StartAsync(placement);
        foreach (var path in CaptureRoutes)
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(path + "?seconds=1", UriKind.Relative));
            request.Headers.Add("X-Debug-Role", "admin");
            using var response = await host.Client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.MethodNotAllowed, $"{placement} HEAD {path}: expected 405, got {(int)response.StatusCode}");
            Assert.Equal("GET", response.Content.Headers.Allow.Single());
            Assert.False(response.Headers.Contains("X-TraceProf-Snapshot-Id"), $"HEAD {path} ran a capture");
        }

        Assert.Equal(0, await SnapshotCountAsync(host));
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task Post_OnACaptureRoute_Returns405ProblemWithAllowGet(string placement)
    {
        await using var host = await StartAsync(placement);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/debug/pprof/profile?seconds=1", UriKind.Relative));
        request.Headers.Add("X-Debug-Role", "admin");
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("GET", response.Content.Headers.Allow.Single());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("accepts GET only", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
        Assert.Equal(0, await SnapshotCountAsync(host));
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task Head_OnReadOnlyRoutes_IsStillAnswered(string placement)
    {
        await using var host = await StartAsync(placement);
        foreach (var path in new[] { "/debug/pprof/", "/debug/snapshots", "/debug/ui/" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(path, UriKind.Relative));
            request.Headers.Add("X-Debug-Role", "admin");
            using var response = await host.Client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{placement} HEAD {path}: expected 200, got {(int)response.StatusCode}");
        }
    }

    private static async Task<int> SnapshotCountAsync(TraceProfHost host)
    {
        using var list = await host.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        using var json = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("count").GetInt32();
    }
}
