using System.Net;
using Microsoft.AspNetCore.Builder;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.AspNetCore.Tests.Ui;

namespace TraceProf.AspNetCore.Tests.Security;

/// <summary>
/// A loopback connection is proof only when nothing was forwarded and the request names this machine: a reverse
/// proxy on the same host made every outside client "loopback", and DNS rebinding let any page's Host through.
/// </summary>
public sealed class LoopbackTrustTests
{
    public static TheoryData<string> Placements => new() { "middleware", "MapTraceProf" };

    private static Task<TraceProfHost> StartAsync(string placement = "middleware") =>
        TraceProfHost.StartAsync(configureApp: placement == "MapTraceProf" ? app => app.MapTraceProf() : null);

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task SameHostProxy_AddingXForwardedFor_AdminRoleHeader_Returns401(string placement)
    {
        await using var host = await StartAsync(placement);
        await using var proxy = await ForwardingProxy.StartAsync(host.Client.BaseAddress!);
        foreach (var path in new[] { "/debug/snapshots", "/debug/pprof/threads?debug=1", "/debug/ui/" })
        {
            using var response = await proxy.Client.SendAsync(Requests.Get(path, "admin"));
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path} through the proxy: expected 401, got {(int)response.StatusCode}");
        }

        using var api = await proxy.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        var detail = await ProblemResponses.DetailAsync(api);
        Assert.Contains("loopback trust not applied: the request carries X-Forwarded-For", detail, StringComparison.Ordinal);
        Assert.Contains("Bearer", api.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SameHostProxy_WithApiKey_IsStillServed()
    {
        await using var host = await StartAsync();
        await using var proxy = await ForwardingProxy.StartAsync(host.Client.BaseAddress!);
        using var response = await proxy.Client.SendAsync(Requests.Get("/debug/snapshots", "admin", TraceProfHost.ApiKey));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("Forwarded", "for=203.0.113.7")]
    [InlineData("X-Forwarded-For", "203.0.113.7")]
    [InlineData("X-Forwarded-For", "127.0.0.1")]
    [InlineData("X-Forwarded-Host", "shop.example")]
    [InlineData("X-Forwarded-Proto", "https")]
    [InlineData("X-Real-IP", "203.0.113.7")]
    [InlineData("X-Original-For", "203.0.113.7:5555")]
    [InlineData("X-Client-IP", "203.0.113.7")]
    [InlineData("True-Client-IP", "203.0.113.7")]
    [InlineData("CF-Connecting-IP", "203.0.113.7")]
    [InlineData("Via", "1.1 envoy")]
    public async Task ForwardingHeader_OnALoopbackConnection_Returns401_NamingTheHeader(string name, string value)
    {
        await using var host = await StartAsync();
        using var request = Requests.Get("/debug/snapshots", "admin");
        request.Headers.TryAddWithoutValidation(name, value);
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains($"carries {name}", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task DnsRebinding_HostAttackerExample_AdminRoleHeader_Returns401_SayingWhy(string placement)
    {
        await using var host = await StartAsync(placement);
        using var request = Requests.Get("/debug/snapshots", "admin");
        request.Headers.Host = "attacker.example";
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var detail = await ProblemResponses.DetailAsync(response);
        Assert.Contains("loopback trust not applied: its Host 'attacker.example' is not localhost, 127.x.x.x or [::1]", detail, StringComparison.Ordinal);
        Assert.Contains("DNS rebinding", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("attacker.example:80")]
    [InlineData("localhost.attacker.example")]
    [InlineData("127.0.0.1.nip.io")]
    [InlineData("2130706433")]
    [InlineData("127.1")]
    [InlineData("0.0.0.0")]
    [InlineData("[::2]")]
    [InlineData("localhost.")]
    [InlineData("192.168.1.10")]
    public async Task Host_NotALoopbackName_Returns401(string hostHeader)
    {
        await using var host = await StartAsync();
        using var request = Requests.Get("/debug/snapshots", "admin");
        request.Headers.Host = hostHeader;
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("LocalHost:8080")]
    [InlineData("127.0.0.1")]
    [InlineData("127.10.20.30:5000")]
    [InlineData("[::1]")]
    [InlineData("[::1]:5000")]
    public async Task Host_ALoopbackName_WithAnyPort_IsTrusted(string hostHeader)
    {
        await using var host = await StartAsync();
        using var request = Requests.Get("/debug/snapshots", "admin");
        request.Headers.Host = hostHeader;
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("http://attacker.example", HttpStatusCode.Unauthorized)]
    [InlineData("https://localhost.attacker.example", HttpStatusCode.Unauthorized)]
    [InlineData("null", HttpStatusCode.OK)] // what Chrome sends for a form on a no-referrer page, such as our own sign-in
    [InlineData("http://localhost:5000", HttpStatusCode.OK)]
    [InlineData("http://127.0.0.1:5000", HttpStatusCode.OK)]
    [InlineData("http://[::1]:5000", HttpStatusCode.OK)]
    public async Task Origin_WhenSent_MustBeALoopbackPage(string origin, HttpStatusCode expected)
    {
        await using var host = await StartAsync();
        using var request = Requests.Get("/debug/snapshots", "admin");
        request.Headers.TryAddWithoutValidation("Origin", origin);
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task PlainLocalRequest_IsStillTrusted()
    {
        await using var host = await StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SignInPage_ThroughSameHostProxy_OffersNoKeylessSignIn()
    {
        await using var host = await StartAsync();
        await using var proxy = await ForwardingProxy.StartAsync(host.Client.BaseAddress!);
        using var browser = new UiBrowser(proxy.BaseAddress);
        var form = await browser.Client.GetStringAsync(new Uri("/debug/ui/signin", UriKind.Relative));
        Assert.DoesNotContain("no key is needed", form, StringComparison.Ordinal);
        Assert.DoesNotContain("optional here", form, StringComparison.Ordinal);
        Assert.Contains("type=\"password\" autocomplete=\"off\" required>", form, StringComparison.Ordinal);
        Assert.Contains("Loopback trust not applied: the request carries X-Forwarded-For", form, StringComparison.Ordinal);

        using var signIn = await browser.SignInAsync("admin");
        Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        Assert.Null(browser.SessionCookie);
    }

    [Fact]
    public async Task SignInPage_ForAnotherHost_OffersNoKeylessSignIn()
    {
        await using var host = await StartAsync();
        using var browser = new UiBrowser(host);
        browser.Client.DefaultRequestHeaders.Host = "attacker.example";
        var form = await browser.Client.GetStringAsync(new Uri("/debug/ui/signin", UriKind.Relative));
        Assert.DoesNotContain("no key is needed", form, StringComparison.Ordinal);
        Assert.Contains("type=\"password\" autocomplete=\"off\" required>", form, StringComparison.Ordinal);

        using var signIn = await browser.SignInAsync("admin");
        Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        Assert.Null(browser.SessionCookie);
    }

    [Fact]
    public async Task SignInPage_PlainLocal_StillOffersKeylessSignIn()
    {
        await using var host = await StartAsync();
        using var browser = new UiBrowser(host);
        var form = await browser.Client.GetStringAsync(new Uri("/debug/ui/signin", UriKind.Relative));
        Assert.Contains("no key is needed", form, StringComparison.Ordinal);
        using var signIn = await browser.SignInAsync("admin");
        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
    }

    [Fact]
    public async Task LoopbackSession_UsedUnderAnotherHost_IsNotProof()
    {
        await using var host = await StartAsync();
        using var browser = new UiBrowser(host);
        (await browser.SignInAsync("admin")).Dispose();
        using (var page = await browser.GetAsync("/debug/ui/"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        // The rebinding page got the cookie's origin to load once; it cannot keep it by naming itself.
        browser.Client.DefaultRequestHeaders.Host = "attacker.example";
        using var rebound = await browser.GetAsync("/debug/ui/");
        Assert.Equal(HttpStatusCode.Unauthorized, rebound.StatusCode);
    }

    [Theory]
    [InlineData("/debug/snapshots")]
    [InlineData("/debug/pprof/")]
    public async Task Development_PlainLocalRequest_NoRoleHeader_ActsAsAdmin(string path)
    {
        await using var host = await TraceProfHost.StartAsync(environmentName: "Development");
        using var response = await host.Client.SendAsync(Requests.Get(path));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Testing")]
    public async Task OutsideDevelopment_PlainLocalRequest_NoRoleHeader_Returns403AskingForTheRole(string environment)
    {
        await using var host = await TraceProfHost.StartAsync(environmentName: environment);
        using var response = await host.Client.SendAsync(Requests.Get("/debug/snapshots"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.StartsWith("Send the X-Debug-Role header naming your role", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Development_ThroughSameHostProxy_NoRoleHeader_Returns401()
    {
        // The loopback role rides on loopback trust, with all its rules: a forwarded request is not local.
        await using var host = await TraceProfHost.StartAsync(environmentName: "Development");
        await using var proxy = await ForwardingProxy.StartAsync(host.Client.BaseAddress!);
        using var response = await proxy.Client.SendAsync(Requests.Get("/debug/snapshots"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Development_ForAnotherHost_NoRoleHeader_Returns401()
    {
        await using var host = await TraceProfHost.StartAsync(environmentName: "Development");
        using var request = Requests.Get("/debug/snapshots");
        request.Headers.Host = "attacker.example";
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}

