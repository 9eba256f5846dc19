using System.Net;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Ui;

/// <summary>Everything a page shows is escaped: stored values and echoed input alike.</summary>
public sealed class UiEscapingTests
{
    private const string Attack = "<script>alert('x')</script>";
    private const string TraceId = "0af7651916cd43dd8448eb211c80319c";

    [Fact]
    public async Task StoredValues_WithScript_AreRenderedEscaped()
    {
        await using var host = await TraceProfHost.StartAsync();
        var snapshot = await UiSnapshots.AddAsync(host, TraceId, serviceName: Attack + "\"><img src=x>");
        foreach (var path in new[] { "/debug/ui/", $"/debug/ui/traces/{TraceId}", $"/debug/ui/snapshots/{snapshot.Id}" })
        {
            using var response = await host.Client.SendAsync(Requests.Get(path, "admin"));
            var html = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("&lt;script&gt;", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EchoedFilter_WithScript_IsRenderedEscaped()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get("/debug/ui/?traceId=" + Uri.EscapeDataString(Attack), "admin"));
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filters_ByTraceIdKindAndTrigger_ShowOnlyMatchingRows()
    {
        await using var host = await TraceProfHost.StartAsync();
        await UiSnapshots.AddAsync(host, TraceId, trigger: "slow");
        await UiSnapshots.AddAsync(host, TraceId, trigger: "request");
        await UiSnapshots.AddAsync(host, "11111111111111111111111111111111");

        async Task<int> RowsAsync(string query)
        {
            using var response = await host.Client.SendAsync(Requests.Get("/debug/ui/" + query, "admin"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            return html.Split("<tr><td>").Length - 1;
        }

        Assert.Equal(3, await RowsAsync(""));
        Assert.Equal(2, await RowsAsync("?traceId=" + TraceId.ToUpperInvariant() + "&kind=&trigger="));
        Assert.Equal(1, await RowsAsync($"?traceId={TraceId}&trigger=slow"));
        Assert.Equal(0, await RowsAsync("?kind=allocs"));
    }
}
