using System.Net;
using System.Text.Json;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary><c>GET /debug/snapshots?trigger=&lt;prefix&gt;</c> filters in the store, and bad prefixes are 400.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class SnapshotTriggerFilterTests
{
    [Fact]
    public async Task Trigger_FiltersByPrefix_InTheApiAndTheUi()
    {
        await using var host = await TraceProfHost.StartAsync();
        using (var capture = await host.Client.SendAsync(Requests.Get("/debug/pprof/exceptions?seconds=1", "admin")))
        {
            Assert.Equal(HttpStatusCode.OK, capture.StatusCode);
        }

        Assert.Equal(1, await CountAsync(host, "/debug/snapshots?trigger=req"));
        Assert.Equal(1, await CountAsync(host, "/debug/snapshots?trigger=request&kind=exceptions"));
        Assert.Equal(0, await CountAsync(host, "/debug/snapshots?trigger=status:"));
        Assert.Equal(0, await CountAsync(host, "/debug/snapshots?trigger=Request"));

        using var ui = await host.Client.SendAsync(Requests.Get("/debug/ui/?trigger=status:5", "admin"));
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Contains("No snapshot matches these filters", await ui.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/debug/snapshots?trigger=status%205")]
    [InlineData("/debug/snapshots?trigger=%3Cscript%3E")]
    [InlineData("/debug/snapshots?trigger=")]
    [InlineData("/debug/snapshots?trigger=a&trigger=b")]
    public async Task Trigger_NotAPrefixOfAllowedCharacters_Returns400(string path)
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get(path, "admin"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("trigger", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }

    private static async Task<int> CountAsync(TraceProfHost host, string path)
    {
        using var response = await host.Client.SendAsync(Requests.Get(path, "admin"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var rows = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return rows.RootElement.GetProperty("snapshots").GetArrayLength();
    }
}
