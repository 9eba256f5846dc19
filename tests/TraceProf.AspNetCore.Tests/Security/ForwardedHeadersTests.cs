using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Security;

/// <summary>
/// When the host processes forwarded headers, TraceProf decides on the same client address as the host: placed first
/// by its startup filter it used to run before the host's <c>UseForwardedHeaders()</c> and see the proxy's loopback.
/// </summary>
public sealed class ForwardedHeadersTests
{
    public static TheoryData<string, string> Setups => new()
    {
        // services.Configure<ForwardedHeadersOptions>(…) + app.UseForwardedHeaders() in Program.cs
        { "configured", "middleware" },
        { "configured", "MapTraceProf" },

        // ASPNETCORE_FORWARDEDHEADERS_ENABLED=true, which reaches configuration as ForwardedHeaders_Enabled; set in the
        // host's configuration rather than the process environment, which the tests running alongside share.
        { "environment", "middleware" },
        { "environment", "MapTraceProf" },
    };

    private static Task<TraceProfHost> StartAsync(string forwarding, string placement) =>
        TraceProfHost.StartAsync(
            configureBuilder: builder =>
            {
                if (forwarding == "configured")
                {
                    builder.Services.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto);
                }
                else
                {
                    builder.Configuration["ForwardedHeaders_Enabled"] = "true";
                }
            },
            configureApp: app =>
            {
                if (forwarding == "configured")
                {
                    app.UseForwardedHeaders();
                }

                app.MapGet("/whoami", (HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "");
                if (placement == "MapTraceProf")
                {
                    app.MapTraceProf();
                }
            });

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task ForwardedClient_ThroughKnownProxy_TraceProfSeesTheClientAddress_Returns401(string forwarding, string placement)
    {
        await using var host = await StartAsync(forwarding, placement);
        await using var proxy = await ForwardingProxy.StartAsync(host.Client.BaseAddress!);

        // The host's own code sees the outside client…
        Assert.Equal(ForwardingProxy.ClientAddress, await proxy.Client.GetStringAsync(new Uri("/whoami", UriKind.Relative)));

        // …and so does TraceProf, which refuses it.
        using var response = await proxy.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains($"the connection is from {ForwardingProxy.ClientAddress}, not loopback", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task ForwardedClient_ClaimingLoopback_IsStillNotTrusted(string forwarding, string placement)
    {
        await using var host = await StartAsync(forwarding, placement);
        await using var proxy = await ForwardingProxy.StartAsync(host.Client.BaseAddress!, forwardedFor: "127.0.0.1");
        Assert.Equal("127.0.0.1", await proxy.Client.GetStringAsync(new Uri("/whoami", UriKind.Relative)));

        // The forwarded-headers middleware consumed X-Forwarded-For and left X-Original-For: it came through a proxy.
        using var response = await proxy.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("carries X-Original-For", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task DirectLocalRequest_WithForwardedHeadersOn_IsStillTrusted(string forwarding, string placement)
    {
        await using var host = await StartAsync(forwarding, placement);
        using var response = await host.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
