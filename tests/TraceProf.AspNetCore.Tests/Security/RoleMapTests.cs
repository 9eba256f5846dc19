using TraceProf.AspNetCore.Security;

namespace TraceProf.AspNetCore.Tests.Security;

public sealed class RoleMapTests
{
    [Fact]
    public void DefaultRoles_GiveAdminEverything_SreProfileCpu_ReadonlyNothing()
    {
        var roles = new RoleMap(new TraceProfOptions().Roles);

        Assert.True(roles.TryGet("admin", out var admin));
        Assert.Equal(Capabilities.All, admin);
        Assert.True(roles.TryGet("sre:profile", out var sre));
        Assert.Equal(Capabilities.Cpu, sre);
        Assert.True(roles.TryGet("readonly", out var readOnly));
        Assert.Equal(Capabilities.None, readOnly);
        Assert.Equal(["admin", "sre:profile", "readonly"], roles.Names);
    }

    [Fact]
    public void ALaterRoleOfTheSameName_ReplacesTheEarlier()
    {
        var roles = new RoleMap([new() { Name = "ops", Capabilities = "cpu" }, new() { Name = "ops", Capabilities = "snapshots,threads" }]);

        Assert.True(roles.TryGet("ops", out var ops));
        Assert.Equal(Capabilities.Snapshots | Capabilities.Threads, ops);
        Assert.Single(roles.Names);
    }

    [Fact]
    public void RoleNames_AreCaseSensitive()
    {
        var roles = new RoleMap([new() { Name = "Admin", Capabilities = "*" }]);
        Assert.False(roles.TryGet("admin", out _));
        Assert.True(roles.TryGet("Admin", out _));
    }

    [Fact]
    public void AnUnknownCapability_FailsNamingTheRoleTheWordAndTheKnownOnes()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new RoleMap([new() { Name = "ops", Capabilities = "cpu,gpu" }]));
        Assert.Contains("role 'ops'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'gpu'", error.Message, StringComparison.Ordinal);
        Assert.Contains("known: *, cpu, allocs, contention, threads, trace, heap, exceptions, snapshots", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RolesWith_ListsTheRolesHoldingEveryRequiredCapability()
    {
        var roles = new RoleMap(new TraceProfOptions().Roles);

        Assert.Equal(["admin", "sre:profile"], roles.RolesWith(Capabilities.Cpu));
        Assert.Equal(["admin"], roles.RolesWith(Capabilities.Snapshots));
        Assert.Equal(["admin", "sre:profile", "readonly"], roles.RolesWith(Capabilities.None));
    }

    [Theory]
    [InlineData("sre:profile", "admin", true)]
    [InlineData("readonly", "sre:profile", true)]
    [InlineData("admin", "admin", true)]
    [InlineData("admin", "sre:profile", false)]
    [InlineData("sre:profile", "readonly", false)]
    [InlineData("nobody", "admin", false)]
    [InlineData("readonly", "nobody", false)]
    public void Narrows_WhenEveryCapabilityOfTheFirstIsTheSeconds_AndBothAreKnown(string narrower, string wider, bool expected) =>
        Assert.Equal(expected, new RoleMap(new TraceProfOptions().Roles).Narrows(narrower, wider));

    [Fact]
    public void Narrows_ComparesCapabilities_NotNames()
    {
        var options = new TraceProfOptions();
        options.Roles.Add(new TraceProfRole { Name = "profiler", Capabilities = "cpu, allocs" });
        options.Roles.Add(new TraceProfRole { Name = "cpu-only", Capabilities = "cpu" });
        var roles = new RoleMap(options.Roles);

        Assert.True(roles.Narrows("cpu-only", "profiler"));
        Assert.True(roles.Narrows("sre:profile", "cpu-only")); // same capabilities, other name
        Assert.False(roles.Narrows("profiler", "sre:profile"));
    }
}
