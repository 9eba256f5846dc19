using System.Net;
using TraceProf.AspNetCore.Tests.Endpoints;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Ui;

/// <summary>The UI routes under the same gate as the rest: path × role × proof → status, like HandlerTableTests.</summary>
public sealed class UiRoleTests(HandlerTableHosts hosts) : IClassFixture<HandlerTableHosts>
{
    private const string Html = "text/html";
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    public static TheoryData<string, string, string?, string?, int, string> Cases => new()
    {
        // host, path, role, api key, status, content type
        { "loopback", "/debug/ui/", "admin", null, 200, Html },
        { "loopback", "/debug/ui", "admin", null, 200, Html },
        { "loopback", "/debug/ui/", null, null, 403, Html },
        { "loopback", "/debug/ui/", "sre:profile", null, 403, Html },
        { "loopback", "/debug/ui/", "readonly", null, 403, Html },
        { "loopback", "/debug/ui/", "root", null, 403, Html },
        { "strict", "/debug/ui/", "admin", null, 401, Html },
        { "strict", "/debug/ui/", "admin", "wrong-key", 401, Html },
        { "strict", "/debug/ui/", "admin", TraceProfHost.ApiKey, 200, Html },
        { "strict", "/debug/ui/", "sre:profile", TraceProfHost.ApiKey, 403, Html },
        { "loopback", $"/debug/ui/traces/{TraceId}", "admin", null, 200, Html },
        { "loopback", $"/debug/ui/traces/{TraceId}", "sre:profile", null, 403, Html },
        { "strict", $"/debug/ui/traces/{TraceId}", "admin", null, 401, Html },
        { "loopback", "/debug/ui/traces/not-a-trace", "admin", null, 400, Html },
        { "loopback", "/debug/ui/snapshots/0123456789abcdef0123456789abcdef", "admin", null, 404, Html },
        { "loopback", "/debug/ui/snapshots/0123456789abcdef0123456789abcdef", "readonly", null, 403, Html },
        { "loopback", "/debug/ui/?traceId=xyz", "admin", null, 400, Html },
        { "loopback", "/debug/ui/?limit=0", "admin", null, 400, Html },
        { "loopback", "/debug/ui/speedscope/index.html", "readonly", null, 200, Html },
        { "loopback", "/debug/ui/speedscope/index.html", null, null, 403, Html },
        { "strict", "/debug/ui/speedscope/index.html", "readonly", null, 401, Html },
        { "loopback", "/debug/ui/speedscope/LICENSE", "readonly", null, 200, "text/plain" },
        { "loopback", "/debug/ui/speedscope/no-such-file.js", "readonly", null, 404, Html },
        { "strict", "/debug/ui/signin", null, null, 200, Html },
        { "strict", "/debug/ui/ui.css", null, null, 200, "text/css" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task UiRoute_AnswersLikeTheGateSays(string host, string path, string? role, string? apiKey, int status, string contentType)
    {
        var target = host == "strict" ? hosts.Strict : hosts.Loopback;
        using var response = await target.Client.SendAsync(Requests.Get(path, role, apiKey));
        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.StartsWith(contentType, response.Content.Headers.ContentType?.MediaType ?? "", StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task UiPages_CarryAStrictContentSecurityPolicy_WithoutScript()
    {
        using var response = await hosts.Loopback.Client.SendAsync(Requests.Get("/debug/ui/", "admin"));
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.StartsWith("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Speedscope_IsServedFromTheAssembly_WithOnlySelfScripts()
    {
        using var index = await hosts.Loopback.Client.SendAsync(Requests.Get("/debug/ui/speedscope/index.html", "readonly"));
        var html = await index.Content.ReadAsStringAsync();
        var csp = index.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self' 'wasm-unsafe-eval';", csp, StringComparison.Ordinal); // exactly: speedscope compiles its own WebAssembly
        Assert.DoesNotContain("'unsafe-eval'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("http", csp, StringComparison.Ordinal);
        var script = System.Text.RegularExpressions.Regex.Match(html, "src=\"(speedscope-[^\"]+\\.js)\"").Groups[1].Value;
        using var bundle = await hosts.Loopback.Client.SendAsync(Requests.Get("/debug/ui/speedscope/" + script, "readonly"));
        Assert.Equal(HttpStatusCode.OK, bundle.StatusCode);
        Assert.Equal("text/javascript", bundle.Content.Headers.ContentType?.MediaType);
        Assert.Contains("immutable", bundle.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RoleHeaderPath_IsUnchanged_ForTheJsonApi()
    {
        using var response = await hosts.Strict.Client.SendAsync(Requests.Get("/debug/snapshots", "admin", TraceProfHost.ApiKey));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var refused = await hosts.Strict.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
    }
}
