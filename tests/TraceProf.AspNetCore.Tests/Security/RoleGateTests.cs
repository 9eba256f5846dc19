using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Security;

public sealed class RoleGateTests
{
    private static Task<TraceProfHost> StartWithUsersAsync(Action<TraceProfOptions>? configure = null) =>
        TraceProfHost.StartAsync(
            options =>
            {
                options.TrustLoopback = false;
                configure?.Invoke(options);
            },
            builder => builder.Services.AddAuthentication(HeaderAuthenticationHandler.SchemeName)
                .AddScheme<AuthenticationSchemeOptions, HeaderAuthenticationHandler>(HeaderAuthenticationHandler.SchemeName, null));

    private static HttpRequestMessage AsUser(string path, string? header, params string[] claimedRoles)
    {
        var request = Requests.Get(path, header);
        request.Headers.Add("X-Test-User", "alice");
        foreach (var role in claimedRoles)
        {
            request.Headers.Add("X-Test-Claim-Role", role);
        }

        return request;
    }

    [Fact]
    public async Task AuthenticatedUser_WithRoleClaim_IsTrustedWithoutHeader()
    {
        await using var host = await StartWithUsersAsync();
        using var response = await host.Client.SendAsync(AsUser("/debug/snapshots", header: null, "admin"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AuthenticatedUser_HeaderNamingUnclaimedRole_Returns403()
    {
        await using var host = await StartWithUsersAsync();
        using var response = await host.Client.SendAsync(AsUser("/debug/snapshots", header: "admin", "readonly"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("does not carry the role 'admin'", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthenticatedUser_ClaimLacksCapability_Returns403()
    {
        await using var host = await StartWithUsersAsync();
        using var response = await host.Client.SendAsync(AsUser("/debug/snapshots", header: null, "sre:profile"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("roles that may: admin", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthenticatedUser_WithoutRoleClaim_IsNotProofForTheHeader()
    {
        await using var host = await StartWithUsersAsync();
        using var response = await host.Client.SendAsync(AsUser("/debug/snapshots", header: "admin"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task RoleMap_FromOptions_ReplacesDefaultsAndAddsRoles()
    {
        await using var host = await TraceProfHost.StartAsync(options =>
        {
            options.Roles.Add(new TraceProfRole { Name = "readonly", Capabilities = "snapshots" });
            options.Roles.Add(new TraceProfRole { Name = "auditor", Capabilities = "snapshots" });
        });
        using var readOnly = await host.Client.SendAsync(Requests.Get("/debug/snapshots", "readonly"));
        using var auditor = await host.Client.SendAsync(Requests.Get("/debug/snapshots", "auditor"));
        using var auditorCpu = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1", "auditor"));
        Assert.Equal(HttpStatusCode.OK, readOnly.StatusCode);
        Assert.Equal(HttpStatusCode.OK, auditor.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, auditorCpu.StatusCode);
    }

    [Fact]
    public async Task ApiKey_AsBearerToken_IsProof()
    {
        await using var host = await TraceProfHost.StartAsync(o => o.TrustLoopback = false);
        using var request = Requests.Get("/debug/snapshots", "admin");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TraceProfHost.ApiKey);
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task InvalidOptions_FailAtStart_WithMessageNamingTheSetting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TraceProfHost.StartAsync(o =>
        {
            o.Roles.Add(new TraceProfRole { Name = "ops", Capabilities = "cpu, teleport" });
            o.ApiKeyHashes.Add("not-a-hash");
        }));
        Assert.Contains("teleport", error.Message, StringComparison.Ordinal);
        Assert.Contains("ApiKeyHashes", error.Message, StringComparison.Ordinal);
    }

    private const string BoundKey = "bound-admin-key-9876";

    private static string BoundKeyHash => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(BoundKey)));

    private static HttpRequestMessage WithBasic(string path, string credentials, string? role = null)
    {
        var request = Requests.Get(path, role);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(credentials)));
        return request;
    }

    [Fact]
    public async Task KeyBoundToARole_AsBasicAuth_NoRoleHeader_IsServed()
    {
        await using var host = await TraceProfHost.StartAsync(o =>
        {
            o.TrustLoopback = false;
            o.ApiKeys.Add(new TraceProfApiKey { Hash = BoundKeyHash, Role = "admin" });
        });
        using var response = await host.Client.SendAsync(WithBasic("/debug/snapshots", "trace:" + BoundKey));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task KeyBoundToARole_FromConfiguration_IsRead()
    {
        await using var host = await TraceProfHost.StartAsync(
            o => o.TrustLoopback = false,
            builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["TraceProf:ApiKeys:0:Hash"] = BoundKeyHash,
                ["TraceProf:ApiKeys:0:Role"] = "sre:profile",
            }));
        using var snapshots = await host.Client.SendAsync(WithBasic("/debug/snapshots", "trace:" + BoundKey));
        Assert.Equal(HttpStatusCode.Forbidden, snapshots.StatusCode);
        Assert.Equal("The role 'sre:profile' lacks the 'snapshots' capability; roles that may: admin.", await ProblemResponses.DetailAsync(snapshots));
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task WrongKey_AsBasicAuth_OnLoopback_Returns401ChallengingBasicAndBearer_NeverLoopbackTrust(string environment)
    {
        await using var host = await TraceProfHost.StartAsync(o => o.ApiKeys.Add(new TraceProfApiKey { Hash = BoundKeyHash, Role = "admin" }), environmentName: environment);
        using var response = await host.Client.SendAsync(WithBasic("/debug/snapshots", "trace:not-the-key", role: "admin"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("The API key is not valid.", await ProblemResponses.DetailAsync(response));
        Assert.Equal(["Basic", "Bearer"], response.Headers.WwwAuthenticate.Select(h => h.Scheme));
        Assert.All(response.Headers.WwwAuthenticate, h => Assert.Contains("realm=\"traceprof\"", h.Parameter, StringComparison.Ordinal));
    }

    [Fact]
    public async Task InvalidKeyBindings_FailAtStart_NamingTheSetting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TraceProfHost.StartAsync(o =>
        {
            o.ApiKeys.Add(new TraceProfApiKey { Hash = BoundKeyHash, Role = "root" });
            o.LoopbackRole = "superuser";
        }));
        Assert.Contains("TraceProf:ApiKeys entries need a Role from TraceProf:Roles (admin, sre:profile, readonly); got 'root'.", error.Message, StringComparison.Ordinal);
        Assert.Contains("TraceProf:LoopbackRole must be empty (none) or a role from TraceProf:Roles", error.Message, StringComparison.Ordinal);
    }
}

