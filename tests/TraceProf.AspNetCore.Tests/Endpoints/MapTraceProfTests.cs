using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Endpoints;

public sealed class MapTraceProfTests
{
    [Fact]
    public void MapTraceProf_WithoutAddTraceProf_ThrowsNamingAddTraceProf()
    {
        var builder = WebApplication.CreateBuilder();
        var app = builder.Build();
        var error = Assert.Throws<InvalidOperationException>(() => app.MapTraceProf());
        Assert.Contains("AddTraceProf", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MapTraceProf_LetsHostRequireAuthorization()
    {
        await using var host = await TraceProfHost.StartAsync(
            configureBuilder: builder =>
            {
                builder.Services.AddAuthentication(HeaderAuthenticationHandler.SchemeName)
                    .AddScheme<AuthenticationSchemeOptions, HeaderAuthenticationHandler>(HeaderAuthenticationHandler.SchemeName, null);
                builder.Services.AddAuthorization(o => o.AddPolicy("ops", p => p.RequireAuthenticatedUser()));
            },
            configureApp: app =>
            {
                app.UseAuthentication();
                app.UseAuthorization();
                app.MapTraceProf().RequireAuthorization("ops");
            });

        // Loopback would satisfy TraceProf's own gate, but the host's policy runs first.
        using var anonymous = await host.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var signedIn = Requests.Get("/debug/snapshots", "admin");
        signedIn.Headers.Add("X-Test-User", "bob");
        using var allowed = await host.Client.SendAsync(signedIn);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);

        using var index = Requests.Get("/debug/pprof/", "readonly");
        index.Headers.Add("X-Test-User", "bob");
        using var indexResponse = await host.Client.SendAsync(index);
        Assert.Equal(HttpStatusCode.OK, indexResponse.StatusCode);

        using var unknown = Requests.Get("/debug/pprof/nope", "admin");
        unknown.Headers.Add("X-Test-User", "bob");
        using var unknownResponse = await host.Client.SendAsync(unknown);
        Assert.Equal(HttpStatusCode.NotFound, unknownResponse.StatusCode);
        Assert.Equal("application/problem+json", unknownResponse.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task MapTraceProf_WithCustomPrefix_StartupFilterDoesNotAnswerToo()
    {
        await using var host = await TraceProfHost.StartAsync(
            configure: o => o.PathPrefix = "/ops/prof",
            configureApp: app => app.MapTraceProf());

        using var mapped = await host.Client.SendAsync(Requests.Get("/ops/prof/snapshots", "admin"));
        Assert.Equal(HttpStatusCode.OK, mapped.StatusCode);
        using var old = await host.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
        Assert.NotEqual("application/problem+json", old.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BothPlacements_AnswerTheSame404And405Problems(bool mapped)
    {
        await using var host = await TraceProfHost.StartAsync(configureApp: app =>
        {
            if (mapped)
            {
                app.MapTraceProf();
            }
        });

        using var post = new HttpRequestMessage(HttpMethod.Post, "/debug/snapshots");
        post.Headers.Add("X-Debug-Role", "admin");
        using var wrongMethod = await host.Client.SendAsync(post);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal("application/problem+json", wrongMethod.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["GET", "HEAD"], wrongMethod.Content.Headers.Allow);

        using var missing = await host.Client.SendAsync(Requests.Get("/debug/no-such-endpoint", "admin"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", Assert.Single(missing.Headers.GetValues("X-Content-Type-Options")));
    }
}
