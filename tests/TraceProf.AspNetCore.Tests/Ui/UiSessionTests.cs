using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using System.Net;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Ui;

/// <summary>The browser sign-in: the cookie it sets, and that the cookie is no weaker than the header's proof.</summary>
public sealed class UiSessionTests
{
    private static Task<TraceProfHost> StartStrictAsync() => TraceProfHost.StartAsync(o => o.TrustLoopback = false);

    [Fact]
    public async Task SignIn_WithApiKey_SetsSealedHttpOnlyStrictCookie_ThatOpensTheUi()
    {
        await using var host = await StartStrictAsync();
        using var browser = new UiBrowser(host);
        using var signIn = await browser.SignInAsync("admin", TraceProfHost.ApiKey);
        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        Assert.Equal("/debug/ui/", signIn.Headers.Location?.ToString());
        var setCookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("traceprof_ui=", StringComparison.Ordinal));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/debug", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("admin", browser.SessionCookie!.Value, StringComparison.Ordinal);
        Assert.DoesNotContain(TraceProfHost.ApiKey, setCookie, StringComparison.Ordinal);

        using var page = await browser.GetAsync("/debug/ui/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("cookie:api-key", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var api = await browser.GetAsync("/debug/snapshots");
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
    }

    [Fact]
    public async Task SessionCookie_Tampered_IsNotProof()
    {
        await using var host = await StartStrictAsync();
        using var browser = new UiBrowser(host);
        (await browser.SignInAsync("admin", TraceProfHost.ApiKey)).Dispose();
        var cookie = browser.SessionCookie!;
        var chars = cookie.Value.ToCharArray();
        var middle = chars.Length / 2;
        chars[middle] = chars[middle] == 'A' ? 'B' : 'A';
        cookie.Value = new string(chars);

        using var page = await browser.GetAsync("/debug/ui/");
        Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
    }

    [Fact]
    public async Task SessionCookie_ForgedAsPlainRole_IsNotProof()
    {
        await using var host = await StartStrictAsync();
        using var browser = new UiBrowser(host);
        browser.Cookies.Add(host.Client.BaseAddress!, new Cookie("traceprof_ui", "admin", "/debug"));
        using var page = await browser.GetAsync("/debug/ui/");
        Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
    }

    [Fact]
    public async Task SignIn_WrongApiKey_Returns401_AndSetsNoSession()
    {
        await using var host = await StartStrictAsync();
        using var browser = new UiBrowser(host);
        using var signIn = await browser.SignInAsync("admin", "not-the-key");
        Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        Assert.Null(browser.SessionCookie);
    }

    [Fact]
    public async Task SignIn_WithoutKey_OffLoopbackTrust_Returns401()
    {
        await using var host = await StartStrictAsync();
        using var browser = new UiBrowser(host);
        using var signIn = await browser.SignInAsync("admin");
        Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        Assert.Null(browser.SessionCookie);
    }

    [Fact]
    public async Task SignIn_UnknownRole_Returns403()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var browser = new UiBrowser(host);
        using var signIn = await browser.SignInAsync("root");
        Assert.Equal(HttpStatusCode.Forbidden, signIn.StatusCode);
        Assert.Null(browser.SessionCookie);
    }

    [Fact]
    public async Task SignIn_OnLoopback_WithoutKey_GivesTheRole_ButOnlyItsCapabilities()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var browser = new UiBrowser(host);
        (await browser.SignInAsync("sre:profile")).Dispose();
        using var page = await browser.GetAsync("/debug/ui/");
        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Contains("lacks the &#x27;snapshots&#x27; capability", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionCookie_ProvenByKey_EndsWhenTheKeyIsRemoved()
    {
        var storage = Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        try
        {
            string sealedValue;
            await using (var before = await TraceProfHost.StartAsync(o => o.TrustLoopback = false, storagePath: storage))
            {
                using var browser = new UiBrowser(before);
                (await browser.SignInAsync("admin", TraceProfHost.ApiKey)).Dispose();
                sealedValue = browser.SessionCookie!.Value;
            }

            await using var after = await TraceProfHost.StartAsync(
                o =>
                {
                    o.TrustLoopback = false;
                    o.ApiKeyHashes.Clear();
                    o.ApiKeyHashes.Add(new string('a', 64));
                },
                storagePath: storage);
            using var returning = new UiBrowser(after);
            returning.Cookies.Add(after.Client.BaseAddress!, new Cookie("traceprof_ui", sealedValue, "/debug"));
            using var page = await returning.GetAsync("/debug/ui/");
            Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
        }
        finally
        {
            TraceProfHost.DeleteStorage(storage);
        }
    }

    [Fact]
    public async Task SignIn_WorksWhenPlacedByMapTraceProf()
    {
        await using var host = await TraceProfHost.StartAsync(configureApp: app => app.MapTraceProf());
        using var browser = new UiBrowser(host);
        using var signIn = await browser.SignInAsync("admin");
        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        using var page = await browser.GetAsync("/debug/ui/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        using var forged = await browser.PostFormAsync("/debug/ui/signout", []);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
    }

    [Fact]
    public async Task RoleHeader_WinsOverTheCookie()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var browser = new UiBrowser(host);
        (await browser.SignInAsync("admin")).Dispose();
        using var request = Requests.Get("/debug/ui/", "readonly");
        using var response = await browser.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_ReturnUrl_OnlyLeadsBackIntoTheUi()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var browser = new UiBrowser(host);
        var (field, token) = await browser.FormTokenAsync();
        using var offsite = await browser.PostFormAsync("/debug/ui/signin", [new(field, token), new("role", "admin"), new("returnUrl", "//evil.example/debug/ui/")]);
        Assert.Equal("/debug/ui/", offsite.Headers.Location?.ToString());
        using var inside = await browser.PostFormAsync("/debug/ui/signin", [new(field, token), new("role", "admin"), new("returnUrl", "/debug/ui/?traceId=4bf92f3577b34da6a3ce929d0e0e4736")]);
        Assert.Equal("/debug/ui/?traceId=4bf92f3577b34da6a3ce929d0e0e4736", inside.Headers.Location?.ToString());
    }

    [Fact]
    public async Task SignIn_WithAKeyBoundToARole_TakesThatRoleOrANarrowerOne_NeverAWider()
    {
        const string key = "ui-key-bound-to-sre";
        await using var host = await TraceProfHost.StartAsync(o =>
        {
            o.TrustLoopback = false;
            o.ApiKeys.Add(new TraceProfApiKey { Hash = Convert.ToHexString(TraceProf.AspNetCore.Security.ApiKeyVerifier.HashOf(key)), Role = "sre:profile" });
        });
        using var wider = new UiBrowser(host);
        using var same = new UiBrowser(host);
        using var narrower = new UiBrowser(host);

        using var asAdmin = await wider.SignInAsync("admin", key);
        using var asSre = await same.SignInAsync("sre:profile", key);
        using var asReadonly = await narrower.SignInAsync("readonly", key);

        Assert.Equal(HttpStatusCode.Forbidden, asAdmin.StatusCode);
        Assert.Contains("This API key proves the role &#x27;sre:profile&#x27;", await asAdmin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(wider.SessionCookie);
        Assert.Equal(HttpStatusCode.SeeOther, asSre.StatusCode);
        Assert.Equal(HttpStatusCode.SeeOther, asReadonly.StatusCode);
    }

    [Fact]
    public async Task SignIn_FromThePprofIndexHint_ReturnsToTheIndex()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var browser = new UiBrowser(host);
        var (field, token) = await browser.FormTokenAsync();

        using var signIn = await browser.PostFormAsync("/debug/ui/signin", [new(field, token), new("role", "readonly"), new("apiKey", ""), new("returnUrl", "/debug/pprof/")]);

        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        Assert.Equal("/debug/pprof/", signIn.Headers.Location?.ToString());
    }

    [Fact]
    public async Task UiPages_LeaveTheHostsLogFreeOfAntiforgeryCacheHeaderWarnings()
    {
        var logs = new CollectingLoggerProvider();
        await using var host = await TraceProfHost.StartAsync(configureBuilder: builder => builder.Logging.AddProvider(logs));
        using var browser = new UiBrowser(host);
        (await browser.SignInAsync("admin")).Dispose(); // the form carries a token: GetAndStoreTokens
        foreach (var path in new[] { "/debug/ui/", "/debug/ui/signin", "/debug/ui/?kind=cpu" }) // a signed-in page carries the sign-out token
        {
            using var page = await browser.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.True(page.Headers.CacheControl is { NoCache: true, NoStore: true }, $"{path}: Cache-Control {page.Headers.CacheControl}");
            Assert.Equal("no-cache", page.Headers.Pragma.ToString());
        }

        Assert.Contains(logs.Entries, e => e.Category.StartsWith("TraceProf", StringComparison.Ordinal)); // the provider did collect
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("have been overridden", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Category.StartsWith("Microsoft.AspNetCore.Antiforgery", StringComparison.Ordinal) && e.EventName == "ResponseCacheHeadersOverridenToNoCache");
    }
}

