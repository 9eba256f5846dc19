using System.Net;
using Microsoft.AspNetCore.Authentication;
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
}
