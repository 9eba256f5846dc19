using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>The JSON index reports the thread pool's state and lists the new profiles.</summary>
public sealed class IndexThreadPoolTests
{
    [Fact]
    public async Task JsonIndex_HasThreadPoolState_AndListsHeapBlockAndExceptions()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var request = Requests.Get("/debug/pprof/", "readonly");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var index = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var pool = index.RootElement.GetProperty("threadPool");
        Assert.True(pool.GetProperty("threadCount").GetInt32() > 0);
        Assert.True(pool.GetProperty("completedWorkItemCount").GetInt64() > 0);
        Assert.True(pool.GetProperty("pendingWorkItemCount").GetInt64() >= 0);
        var text = index.RootElement.GetProperty("profiles").GetRawText();
        Assert.Contains("/pprof/heap", text, StringComparison.Ordinal);
        Assert.Contains("/pprof/block", text, StringComparison.Ordinal);
        Assert.Contains("/pprof/exceptions", text, StringComparison.Ordinal);
    }
}
