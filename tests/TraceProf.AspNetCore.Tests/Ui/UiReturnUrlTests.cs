using System.Net;
using System.Text.RegularExpressions;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Ui;

/// <summary>
/// Where sign-in sends the browser back to: always a path of the UI, and always a header Kestrel can write
/// (a non-ASCII returnUrl used to end in a 500 from setting Location).
/// </summary>
public sealed partial class UiReturnUrlTests
{
    [Theory]
    [InlineData("/debug/ui/é", "/debug/ui/%C3%A9")]
    [InlineData("/debug/ui/日本", "/debug/ui/%E6%97%A5%E6%9C%AC")]
    [InlineData("/debug/ui/?traceId=é", "/debug/ui/?traceId=%C3%A9")]
    [InlineData("/debug/ui/a b\"<x>", "/debug/ui/a%20b%22%3Cx%3E")]
    [InlineData("/debug/ui/\u202Eevil", "/debug/ui/%E2%80%AEevil")]
    [InlineData("/debug/ui/%C3%A9", "/debug/ui/%C3%A9")]
    [InlineData("/debug/ui/snapshots/0123456789abcdef0123456789abcdef", "/debug/ui/snapshots/0123456789abcdef0123456789abcdef")]
    public async Task SignIn_NonAsciiReturnUrl_RedirectsEncoded_Never500(string returnUrl, string location)
    {
        await using var host = await TraceProfHost.StartAsync();
        using var browser = new UiBrowser(host);
        var (field, token) = await browser.FormTokenAsync();
        using var signIn = await browser.PostFormAsync("/debug/ui/signin", [new(field, token), new("role", "admin"), new("returnUrl", returnUrl)]);
        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        Assert.Equal(location, signIn.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("/debug/ui/../pprof/profile")]
    [InlineData("/debug/ui/%2e%2e/pprof/profile")]
    [InlineData("/debug/ui/.%2E/snapshots")]
    [InlineData("/debug/ui/./x")]
    [InlineData("/debug/ui/..?x=1")]
    [InlineData("/debug/uix")]
    [InlineData("https://evil.example/debug/ui/")]
    [InlineData("/debug/ui/\\\\evil.example")]
    [InlineData("/debug/ui//evil.example")]
    public async Task SignIn_ReturnUrlLeavingTheUi_FallsBackToTheUi(string returnUrl)
    {
        await using var host = await TraceProfHost.StartAsync();
        using var browser = new UiBrowser(host);
        var (field, token) = await browser.FormTokenAsync();
        using var signIn = await browser.PostFormAsync("/debug/ui/signin", [new(field, token), new("role", "admin"), new("returnUrl", returnUrl)]);
        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        Assert.Equal("/debug/ui/", signIn.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task DeniedPage_ForNonAsciiPath_LinksToSignIn_ThatRendersAndReturnsThere()
    {
        await using var host = await TraceProfHost.StartAsync(o => o.TrustLoopback = false);
        using var browser = new UiBrowser(host);
        using var denied = await browser.GetAsync("/debug/ui/traces/%C3%A9");
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        var link = WebUtility.HtmlDecode(SignInLink().Match(await denied.Content.ReadAsStringAsync()).Groups["href"].Value);
        Assert.StartsWith("/debug/ui/signin?returnUrl=", link, StringComparison.Ordinal);

        using var form = await browser.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var html = await form.Content.ReadAsStringAsync();
        Assert.Contains("name=\"returnUrl\" value=\"/debug/ui/traces/%C3%A9\"", html, StringComparison.Ordinal);

        var (field, token) = await browser.FormTokenAsync();
        using var signIn = await browser.PostFormAsync("/debug/ui/signin", [new(field, token), new("role", "admin"), new("apiKey", TraceProfHost.ApiKey), new("returnUrl", "/debug/ui/traces/%C3%A9")]);
        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        Assert.Equal("/debug/ui/traces/%C3%A9", signIn.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task SignInForm_NonAsciiReturnUrlInQuery_Renders()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var browser = new UiBrowser(host);
        using var form = await browser.GetAsync("/debug/ui/signin?returnUrl=%2Fdebug%2Fui%2F%C3%A9");
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
    }

    [GeneratedRegex("<a href=\"(?<href>[^\"]*signin[^\"]*)\">sign in</a>")]
    private static partial Regex SignInLink();
}
