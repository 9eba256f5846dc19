using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Security;

namespace TraceProf.AspNetCore.Tests.Security;

/// <summary>
/// The gate's decisions for the proofs that are not loopback trust: the host's user and its role claims, API keys,
/// and what a role may do; and the role a request acts as when it names none (a key bound to a role, the loopback
/// role). Requests come from a non-loopback address with loopback trust off unless a test says otherwise.
/// </summary>
public sealed class TraceProfGateTests
{
    private const string BoundKey = "bound-key-for-sre";
    private const string AdminKey = "bound-key-for-admin";
    private static readonly IPAddress Remote = IPAddress.Parse("203.0.113.7");

    private static TraceProfGate Gate(Action<TraceProfOptions>? configure = null, string environment = "Production")
    {
        var options = new TraceProfOptions { TrustLoopback = false };
        options.ApiKeyHashes.Add(TraceProfHostKeys.Hash);
        options.ApiKeys.Add(new TraceProfApiKey { Hash = HashOf(BoundKey), Role = "sre:profile" });
        options.ApiKeys.Add(new TraceProfApiKey { Hash = HashOf(AdminKey), Role = "admin" });
        configure?.Invoke(options);
        var roles = new RoleMap(options.Roles);
        var keys = new ApiKeyVerifier(options.ApiKeyHashes, options.ApiKeys);
        var wrapped = Options.Create(options);
        var cookie = new UiSessionCookie(new EphemeralDataProtectionProvider(), wrapped, roles, keys, TimeProvider.System);
        return new TraceProfGate(wrapped, roles, keys, cookie, new HostingEnvironment { EnvironmentName = environment });
    }

    private static string HashOf(string key) => Convert.ToHexString(ApiKeyVerifier.HashOf(key)).ToLowerInvariant();

    private static string Basic(string userAndKey) => "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(userAndKey));

    private static DefaultHttpContext Loopback(DefaultHttpContext context)
    {
        context.Connection.RemoteIpAddress = IPAddress.Loopback;
        context.Request.Host = new HostString("127.0.0.1", 5000);
        return context;
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
        Assert.Equal("Basic realm=\"traceprof\", charset=\"UTF-8\",Bearer realm=\"traceprof\"", context.Response.Headers.WWWAuthenticate.ToString());
    }

    [Fact]
    public async Task BoundKey_WithoutRoleHeader_ActsAsTheKeysRole()
    {
        var decision = await Gate().AuthorizeAsync(Request(bearer: BoundKey), Capabilities.Cpu);

        Assert.True(decision.Allowed);
        Assert.Equal(("sre:profile", "api-key"), (decision.Role, decision.Proof));
    }

    [Fact]
    public async Task BoundKey_ItsRoleLacksTheCapability_Returns403NamingIt()
    {
        var decision = await Gate().AuthorizeAsync(Request(bearer: BoundKey), Capabilities.Snapshots);

        Assert.Equal(StatusCodes.Status403Forbidden, decision.StatusCode);
        Assert.Equal("The role 'sre:profile' lacks the 'snapshots' capability; roles that may: admin.", decision.Detail);
    }

    [Fact]
    public async Task BoundKey_ARoleHeaderMayNarrowIt()
    {
        var decision = await Gate().AuthorizeAsync(Request(role: "sre:profile", bearer: AdminKey), Capabilities.Cpu);

        Assert.Equal(("sre:profile", "api-key"), (decision.Role, decision.Proof));
    }

    [Fact]
    public async Task BoundKey_ARoleHeaderMayNotWidenIt_Returns403SayingSo()
    {
        var decision = await Gate().AuthorizeAsync(Request(role: "admin", bearer: BoundKey), Capabilities.None);

        Assert.Equal(StatusCodes.Status403Forbidden, decision.StatusCode);
        Assert.Equal(
            "The API key proves the role 'sre:profile' (cpu); the X-Debug-Role header may only narrow it to a role with no capability beyond those, and 'admin' has more. Send no X-Debug-Role header to act as 'sre:profile'.",
            decision.Detail);
    }

    [Fact]
    public async Task BoundKey_ARoleHeaderNamingAnUnknownRole_Returns403ListingTheKnownOnes()
    {
        var decision = await Gate().AuthorizeAsync(Request(role: "root", bearer: AdminKey), Capabilities.None);

        Assert.Equal("The role 'root' is not known; known roles: admin, sre:profile, readonly.", decision.Detail);
    }

    [Theory]
    [InlineData("trace:" + AdminKey)]
    [InlineData(":" + AdminKey)] // the user name is ignored, even when empty
    [InlineData("anyone:" + AdminKey)]
    public async Task BasicAuth_TheKeyIsThePassword_TheUserIsIgnored(string credentials)
    {
        var context = Request();
        context.Request.Headers.Authorization = Basic(credentials);

        var decision = await Gate().AuthorizeAsync(context, Capabilities.Heap);

        Assert.Equal(("admin", "api-key"), (decision.Role, decision.Proof));
    }

    [Fact]
    public async Task BasicAuth_AKeyWithAColon_KeepsEverythingAfterTheFirstColon()
    {
        const string key = "part:one:two";
        var context = Request();
        context.Request.Headers.Authorization = Basic("trace:" + key);

        var decision = await Gate(o => o.ApiKeys.Add(new TraceProfApiKey { Hash = HashOf(key), Role = "admin" })).AuthorizeAsync(context, Capabilities.None);

        Assert.True(decision.Allowed);
    }

    [Fact]
    public async Task BasicAuth_WrongKey_Returns401ChallengingBasicAndBearer()
    {
        var context = Request();
        context.Request.Headers.Authorization = Basic("trace:" + AdminKey + "x");

        var decision = await Gate().AuthorizeAsync(context, Capabilities.None);

        Assert.Equal(StatusCodes.Status401Unauthorized, decision.StatusCode);
        Assert.Equal("The API key is not valid.", decision.Detail);
        var challenges = context.Response.Headers.WWWAuthenticate.ToArray();
        Assert.Contains(challenges, c => c!.StartsWith("Basic ", StringComparison.Ordinal));
        Assert.Contains(challenges, c => c!.StartsWith("Bearer ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Basic !!!not-base64")]
    [InlineData("Basic dHJhY2U=")] // "trace": no colon, so no key
    [InlineData("Basic dHJhY2U6")] // "trace:": an empty key
    [InlineData("Basic //79")] // not UTF-8
    public async Task BasicAuth_CredentialsThatDoNotDecode_Return401SayingWhatIsExpected(string authorization)
    {
        var context = Request();
        context.Request.Headers.Authorization = authorization;

        var decision = await Gate().AuthorizeAsync(context, Capabilities.None);

        Assert.Equal(StatusCodes.Status401Unauthorized, decision.StatusCode);
        Assert.Equal(
            "The Authorization: Basic credentials are not base64 of UTF-8 'user:key' with a key after the colon (the user name is ignored; the key is the password).",
            decision.Detail);
    }

    [Fact]
    public async Task WrongKey_OnATrustedLoopbackConnection_InDevelopment_IsStill401()
    {
        var context = Loopback(Request());
        context.Request.Headers.Authorization = Basic("trace:wrong");

        var decision = await Gate(o => o.TrustLoopback = true, environment: "Development").AuthorizeAsync(context, Capabilities.None);

        Assert.Equal(StatusCodes.Status401Unauthorized, decision.StatusCode);
    }

    [Fact]
    public async Task Loopback_NoRoleHeader_InDevelopment_ActsAsAdmin()
    {
        var decision = await Gate(o => o.TrustLoopback = true, environment: "Development").AuthorizeAsync(Loopback(Request()), Capabilities.Heap);

        Assert.Equal(("admin", "loopback"), (decision.Role, decision.Proof));
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    [InlineData("Testing")]
    public async Task Loopback_NoRoleHeader_OutsideDevelopment_Returns403AskingForTheHeader(string environment)
    {
        var decision = await Gate(o => o.TrustLoopback = true, environment).AuthorizeAsync(Loopback(Request()), Capabilities.Cpu);

        Assert.Equal(StatusCodes.Status403Forbidden, decision.StatusCode);
        Assert.StartsWith("Send the X-Debug-Role header naming your role; roles that may: admin, sre:profile. (TraceProf:LoopbackRole", decision.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoopbackRole_Configured_AppliesInAnyEnvironment_AndAHeaderStillPicksAnother()
    {
        var gate = Gate(o => (o.TrustLoopback, o.LoopbackRole) = (true, "sre:profile"), environment: "Production");

        var implied = await gate.AuthorizeAsync(Loopback(Request()), Capabilities.Cpu);
        var named = await gate.AuthorizeAsync(Loopback(Request(role: "admin")), Capabilities.Snapshots);

        Assert.Equal(("sre:profile", "loopback"), (implied.Role, implied.Proof));
        Assert.Equal(("admin", "loopback"), (named.Role, named.Proof));
    }

    [Fact]
    public async Task LoopbackRole_Empty_TurnsTheDevelopmentDefaultOff()
    {
        var decision = await Gate(o => (o.TrustLoopback, o.LoopbackRole) = (true, ""), environment: "Development").AuthorizeAsync(Loopback(Request()), Capabilities.None);

        Assert.Equal(StatusCodes.Status403Forbidden, decision.StatusCode);
    }

    [Fact]
    public async Task LoopbackRole_NeverAppliesToARemoteConnection_InDevelopment()
    {
        var decision = await Gate(o => o.TrustLoopback = true, environment: "Development").AuthorizeAsync(Request(), Capabilities.None);

        Assert.Equal(StatusCodes.Status401Unauthorized, decision.StatusCode);
    }

    [Fact]
    public async Task LoopbackRole_NeedsLoopbackTrust_InDevelopment()
    {
        var decision = await Gate(o => o.TrustLoopback = false, environment: "Development").AuthorizeAsync(Loopback(Request()), Capabilities.None);

        Assert.Equal(StatusCodes.Status401Unauthorized, decision.StatusCode);
    }

    [Theory]
    [InlineData(null, "Development", "admin")]
    [InlineData(null, "Production", null)]
    [InlineData("", "Development", null)]
    [InlineData("readonly", "Production", "readonly")]
    public void EffectiveLoopbackRole_IsTheSetting_ElseAdminInDevelopmentOnly(string? configured, string environment, string? expected) =>
        Assert.Equal(expected, TraceProfGate.EffectiveLoopbackRole(configured, new HostingEnvironment { EnvironmentName = environment }));

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
        Assert.Contains("an API key (Authorization: Bearer <key>, X-Debug-Key: <key>, or Basic with the key as password)", decision.Detail, StringComparison.Ordinal);
        Assert.Contains("Bearer", context.Response.Headers.WWWAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoKeysConfigured_APresentedKeyIsNoProof_AndTheDetailSaysNoneIsConfigured()
    {
        var decision = await Gate(o =>
        {
            o.ApiKeyHashes.Clear();
            o.ApiKeys.Clear();
        }).AuthorizeAsync(Request(role: "admin", key: TraceProfHostKeys.Key), Capabilities.None);

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
