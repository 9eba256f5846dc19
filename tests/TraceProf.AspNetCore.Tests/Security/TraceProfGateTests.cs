using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Security;

namespace TraceProf.AspNetCore.Tests.Security;

/// <summary>
/// The gate's decisions for the proofs that are not loopback trust: the host's user and its role claims, API keys,
/// and what a role may do. Every request here comes from a non-loopback address with loopback trust off.
/// </summary>
public sealed class TraceProfGateTests
{
    private static readonly IPAddress Remote = IPAddress.Parse("203.0.113.7");

    private static TraceProfGate Gate(Action<TraceProfOptions>? configure = null)
    {
        var options = new TraceProfOptions { TrustLoopback = false };
        options.ApiKeyHashes.Add(TraceProfHostKeys.Hash);
        configure?.Invoke(options);
        var roles = new RoleMap(options.Roles);
        var keys = new ApiKeyVerifier(options.ApiKeyHashes);
        var wrapped = Options.Create(options);
        return new TraceProfGate(wrapped, roles, keys, new UiSessionCookie(new EphemeralDataProtectionProvider(), wrapped, roles, keys, TimeProvider.System));
    }

    private static DefaultHttpContext Request(string? role = null, string? key = null, string? bearer = null, params string[] claimedRoles)
    {
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().BuildServiceProvider() };
        context.Connection.RemoteIpAddress = Remote;
        if (role is not null)
        {
            context.Request.Headers["X-Debug-Role"] = role;
        }

        if (key is not null)
        {
            context.Request.Headers["X-Debug-Key"] = key;
        }

        if (bearer is not null)
        {
            context.Request.Headers.Authorization = "Bearer " + bearer;
        }

        if (claimedRoles.Length > 0)
        {
            context.User = new ClaimsPrincipal(new ClaimsIdentity(claimedRoles.Select(r => new Claim(TraceProfOptions.DefaultRoleClaimType, r)), authenticationType: "test"));
        }

        return context;
    }

    [Fact]
    public async Task TwoRoleHeaders_Returns400NamingTheHeader()
    {
        var context = Request(key: TraceProfHostKeys.Key);
        context.Request.Headers["X-Debug-Role"] = new(["admin", "readonly"]);

        var decision = await Gate().AuthorizeAsync(context, Capabilities.None);

        Assert.Equal(StatusCodes.Status400BadRequest, decision.StatusCode);
        Assert.Equal("Send one X-Debug-Role header, not 2.", decision.Detail);
    }

    [Fact]
    public async Task UserWithRoleClaim_NoHeader_IsAllowedAsTheFirstClaimedRoleThatMay()
    {
        var decision = await Gate().AuthorizeAsync(Request(claimedRoles: ["readonly", "sre:profile"]), Capabilities.Cpu);

        Assert.True(decision.Allowed);
        Assert.Equal(("sre:profile", "user"), (decision.Role, decision.Proof));
    }

    [Fact]
    public async Task UserWithRoleClaim_HeaderPicksAmongTheClaims()
    {
        var decision = await Gate().AuthorizeAsync(Request(role: "readonly", claimedRoles: ["admin", "readonly"]), Capabilities.None);

        Assert.True(decision.Allowed);
        Assert.Equal(("readonly", "user"), (decision.Role, decision.Proof));
    }

    [Fact]
    public async Task UserWithRoleClaim_HeaderNamingAnUnclaimedRole_Returns403ListingTheClaims()
    {
        var decision = await Gate().AuthorizeAsync(Request(role: "admin", claimedRoles: ["readonly"]), Capabilities.None);

        Assert.Equal(StatusCodes.Status403Forbidden, decision.StatusCode);
        Assert.Equal("Your identity does not carry the role 'admin' (claim 'traceprof_role'); it carries: readonly.", decision.Detail);
    }

    [Fact]
    public async Task UserWithRoleClaim_AValidApiKeyDoesNotWidenIt()
    {
        // The user's claims decide before any key is looked at.
        var decision = await Gate().AuthorizeAsync(Request(role: "admin", key: TraceProfHostKeys.Key, claimedRoles: ["readonly"]), Capabilities.Cpu);

        Assert.Equal(StatusCodes.Status403Forbidden, decision.StatusCode);
    }

    [Fact]
    public async Task ClaimTypeIsConfigurable()
    {
        var context = Request();
        context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("groups", "admin")], authenticationType: "test"));

        var decision = await Gate(o => o.RoleClaimType = "groups").AuthorizeAsync(context, Capabilities.Snapshots);

        Assert.Equal(("admin", "user"), (decision.Role, decision.Proof));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ApiKey_InEitherHeader_ProvesTheHeadersRole(bool bearer)
    {
        var context = bearer ? Request(role: "admin", bearer: TraceProfHostKeys.Key) : Request(role: "admin", key: TraceProfHostKeys.Key);

        var decision = await Gate().AuthorizeAsync(context, Capabilities.Trace);

        Assert.True(decision.Allowed);
        Assert.Equal(("admin", "api-key"), (decision.Role, decision.Proof));
    }

    [Fact]
    public async Task WrongApiKey_Returns401WithBearerChallenge()
    {
        var context = Request(role: "admin", key: "wrong-key");

        var decision = await Gate().AuthorizeAsync(context, Capabilities.None);

        Assert.Equal(StatusCodes.Status401Unauthorized, decision.StatusCode);
        Assert.Equal("The API key is not valid.", decision.Detail);
        Assert.Equal("Bearer realm=\"traceprof\"", context.Response.Headers.WWWAuthenticate.ToString());
    }

    [Fact]
    public async Task ValidApiKey_WithoutRoleHeader_Returns403AskingForIt()
    {
        var decision = await Gate().AuthorizeAsync(Request(key: TraceProfHostKeys.Key), Capabilities.Cpu);

        Assert.Equal(StatusCodes.Status403Forbidden, decision.StatusCode);
        Assert.Equal("Send the X-Debug-Role header naming your role; roles that may: admin, sre:profile.", decision.Detail);
    }

    [Fact]
    public async Task UnknownRole_Returns403ListingTheKnownRoles()
    {
        var decision = await Gate().AuthorizeAsync(Request(role: "root", key: TraceProfHostKeys.Key), Capabilities.None);

        Assert.Equal(StatusCodes.Status403Forbidden, decision.StatusCode);
        Assert.Equal("The role 'root' is not known; known roles: admin, sre:profile, readonly.", decision.Detail);
    }

    [Fact]
    public async Task RoleLackingTheCapability_Returns403NamingItAndWhoMay()
    {
        var decision = await Gate().AuthorizeAsync(Request(role: "sre:profile", key: TraceProfHostKeys.Key), Capabilities.Snapshots);

        Assert.Equal(StatusCodes.Status403Forbidden, decision.StatusCode);
        Assert.Equal("The role 'sre:profile' lacks the 'snapshots' capability; roles that may: admin.", decision.Detail);
    }

    [Fact]
    public async Task CapabilityNoRoleHas_SaysSo()
    {
        var decision = await Gate(o =>
        {
            o.Roles.Clear();
            o.Roles.Add(new TraceProfRole { Name = "viewer", Capabilities = "snapshots" });
        }).AuthorizeAsync(Request(role: "viewer", key: TraceProfHostKeys.Key), Capabilities.Cpu);

        Assert.Equal("The role 'viewer' lacks the 'cpu' capability; no configured role has that capability.", decision.Detail);
    }

    [Fact]
    public async Task ALongRoleIsEchoedCut()
    {
        var decision = await Gate().AuthorizeAsync(Request(role: new string('r', 200), key: TraceProfHostKeys.Key), Capabilities.None);

        Assert.Contains(new string('r', 64) + "…'", decision.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('r', 65), decision.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoProofAtAll_Returns401NamingEveryWayToProve()
    {
        var context = Request(role: "admin");

        var decision = await Gate().AuthorizeAsync(context, Capabilities.None);

        Assert.Equal(StatusCodes.Status401Unauthorized, decision.StatusCode);
        Assert.Contains("a signed-in user with a 'traceprof_role' claim", decision.Detail, StringComparison.Ordinal);
        Assert.Contains("an API key (Authorization: Bearer <key> or X-Debug-Key: <key>)", decision.Detail, StringComparison.Ordinal);
        Assert.Contains("Bearer", context.Response.Headers.WWWAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoKeysConfigured_APresentedKeyIsNoProof_AndTheDetailSaysNoneIsConfigured()
    {
        var decision = await Gate(o => o.ApiKeyHashes.Clear()).AuthorizeAsync(Request(role: "admin", key: TraceProfHostKeys.Key), Capabilities.None);

        Assert.Equal(StatusCodes.Status401Unauthorized, decision.StatusCode);
        Assert.Contains("(none is configured)", decision.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void GateDecision_AllowCarriesRoleAndProof_DenyCarriesStatusAndDetail()
    {
        Assert.Equal(new GateDecision(0, null, "admin", "api-key"), GateDecision.Allow("admin", "api-key"));
        Assert.True(GateDecision.Allow("admin", "api-key").Allowed);
        var denied = GateDecision.Deny(403, "no");
        Assert.False(denied.Allowed);
        Assert.Equal((403, "no", (string?)null), (denied.StatusCode, denied.Detail, denied.Role));
    }

    private static class TraceProfHostKeys
    {
        public const string Key = Infrastructure.TraceProfHost.ApiKey;

        public static string Hash => Infrastructure.TraceProfHost.ApiKeyHash;
    }
}
