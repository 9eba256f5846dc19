using System.Net;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Ui;

/// <summary>Requests that change state (sign-in, sign-out) need the form's antiforgery token.</summary>
public sealed class UiCsrfTests
{
    [Fact]
    public async Task SignIn_WithoutAntiforgeryToken_Returns400_AndSetsNoSession()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var browser = new UiBrowser(host);
        using var response = await browser.PostFormAsync("/debug/ui/signin", [new("role", "admin"), new("apiKey", TraceProfHost.ApiKey)]);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(browser.SessionCookie);
    }

    [Fact]
    public async Task SignIn_WithTokenFromAnotherBrowser_Returns400()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var attacker = new UiBrowser(host);
        var (field, token) = await attacker.FormTokenAsync();
        using var victim = new UiBrowser(host);
        (await victim.FormTokenAsync()).ToString(); // the victim has its own antiforgery cookie
        using var response = await victim.PostFormAsync("/debug/ui/signin", [new(field, token), new("role", "admin")]);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(victim.SessionCookie);
    }

    [Fact]
    public async Task SignOut_WithoutAntiforgeryToken_KeepsTheSession()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var browser = new UiBrowser(host);
        (await browser.SignInAsync("admin")).Dispose();
        using var forged = await browser.PostFormAsync("/debug/ui/signout", []);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        using var page = await browser.GetAsync("/debug/ui/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task SignOut_WithToken_EndsTheSession()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var browser = new UiBrowser(host);
        (await browser.SignInAsync("admin")).Dispose();
        var (field, token) = await browser.FormTokenAsync();
        using var signOut = await browser.PostFormAsync("/debug/ui/signout", [new(field, token)]);
        Assert.Equal(HttpStatusCode.SeeOther, signOut.StatusCode);
        Assert.Null(browser.SessionCookie);
        using var page = await browser.GetAsync("/debug/ui/");
        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
    }

    [Fact]
    public async Task SignOut_ByGet_IsNotAllowed()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get("/debug/ui/signout", "admin"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("POST", response.Content.Headers.Allow.Single());
    }
}
