using System.Net;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>
/// What a browser gets from the API routes (Accept: text/html): the pprof index styled like the UI and linking it,
/// and the UI's sign-in hint instead of problem+json when it has no role. Scripts keep getting JSON.
/// </summary>
public sealed class BrowserPagesTests(HandlerTableHosts hosts) : IClassFixture<HandlerTableHosts>
{
    private static HttpRequestMessage AsBrowser(string path, string? role = null)
    {
        var request = Requests.Get(path, role);
        request.Headers.Add("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"); // what chromium sends
        return request;
    }

    [Fact]
    public async Task Index_ForABrowser_IsStyledLikeTheUi_AndLinksIt()
    {
        using var response = await hosts.Loopback.Client.SendAsync(AsBrowser("/debug/pprof/", "readonly"));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<link rel=\"stylesheet\" href=\"/debug/ui/ui.css\">", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/debug/ui/\">browser UI</a>", html, StringComparison.Ordinal);
        Assert.Contains("style-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Index_ForABrowser_LinksNoTraceUrlThatAnswers400()
    {
        using var response = await hosts.Loopback.Client.SendAsync(AsBrowser("/debug/pprof/", "readonly"));
        var html = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain("href=\"/debug/traces/", html, StringComparison.Ordinal);
        Assert.DoesNotContain("&lt;trace id&gt;", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/debug/ui/\">traces</a>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Index_ForAScript_StillNamesTheTracesRouteAsATemplate()
    {
        using var response = await hosts.Loopback.Client.SendAsync(Requests.Get("/debug/pprof/", "readonly"));
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var traces = json.RootElement.GetProperty("profiles").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "traces");
        Assert.Equal("/debug/traces/{traceId}?kind=cpu", traces.GetProperty("href").GetString());
    }

    [Theory]
    [InlineData("/debug/pprof/", HttpStatusCode.Forbidden)] // loopback, no role header, not Development
    [InlineData("/debug/pprof/profile?seconds=1", HttpStatusCode.Forbidden)]
    public async Task ABrowserWithoutARole_GetsTheSignInHint_NotJson(string path, HttpStatusCode expected)
    {
        using var response = await hosts.Loopback.Client.SendAsync(AsBrowser(path));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Send the X-Debug-Role header naming your role", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/debug/ui/signin?returnUrl=%2Fdebug%2Fpprof%2F\">sign in</a>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABrowserWithoutProof_Gets401WithTheSignInHint()
    {
        using var response = await hosts.Strict.Client.SendAsync(AsBrowser("/debug/pprof/", "admin"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(">sign in</a>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AScriptWithoutARole_StillGetsProblemJson()
    {
        using var response = await hosts.Loopback.Client.SendAsync(Requests.Get("/debug/pprof/"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/debug/pprof/symbol", "its profiles carry function names in every mapping")]
    [InlineData("/debug/pprof/cmdline", "a process's command line can hold secrets")]
    public async Task GoOnlyRoutes_Answer404SayingWhy(string path, string why)
    {
        using var response = await hosts.Loopback.Client.SendAsync(Requests.Get(path, "readonly"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(why, await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }
}
