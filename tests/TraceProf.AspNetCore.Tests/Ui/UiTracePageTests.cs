using System.Net;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Ui;

[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class UiTracePageTests
{
    [Fact]
    public async Task TracePage_LinksTheMergedFlameGraphOfTheTrace()
    {
        const string traceId = "7ace7ace7ace7ace7ace7ace7ace7ace";
        await using var host = await TraceProfHost.StartAsync();
        using var capture = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1", "admin", traceparent: $"00-{traceId}-00f067aa0ba902b7-01"));
        Assert.Equal(HttpStatusCode.OK, capture.StatusCode);

        using var page = await host.Client.SendAsync(Requests.Get($"/debug/ui/traces/{traceId}", "admin"));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = WebUtility.UrlDecode(WebUtility.HtmlDecode(await page.Content.ReadAsStringAsync()));
        Assert.Contains($"#profileURL=/debug/traces/{traceId}?kind=cpu&format=speedscope", html, StringComparison.Ordinal);
        Assert.Contains("cpu flame graph", html, StringComparison.Ordinal);
    }
}
