using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TraceProf.AspNetCore.Tests.Infrastructure;

/// <summary>
/// A reverse proxy on the same machine, as nginx or a sidecar would be: it listens on 127.0.0.1, connects to the app
/// from 127.0.0.1, sends the upstream's own address as Host (nginx's default <c>$proxy_host</c>) and adds
/// <c>X-Forwarded-For</c> naming the outside client it stands for. Loopback traffic only.
/// </summary>
public sealed class ForwardingProxy : IAsyncDisposable
{
    /// <summary>The outside client the proxy forwards for (TEST-NET-3, RFC 5737).</summary>
    public const string ClientAddress = "203.0.113.7";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Host",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _upstream;

    private ForwardingProxy(WebApplication app, HttpClient upstream)
    {
        _app = app;
        _upstream = upstream;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Client = new HttpClient { BaseAddress = new Uri(address) };
    }

    /// <summary>A client of the proxy: its requests reach the app through it.</summary>
    public HttpClient Client { get; }

    public Uri BaseAddress => Client.BaseAddress!;

    public static async Task<ForwardingProxy> StartAsync(Uri upstream, string forwardedFor = ClientAddress)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = upstream };
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(context => ForwardAsync(context, client, forwardedFor));
        await app.StartAsync();
        return new ForwardingProxy(app, client);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }

    private static async Task ForwardAsync(HttpContext context, HttpClient upstream, string forwardedFor)
    {
        var incoming = context.Request;
        using var request = new HttpRequestMessage(new HttpMethod(incoming.Method), new Uri(incoming.Path.ToUriComponent() + incoming.QueryString.Value, UriKind.Relative));
        if (incoming.ContentLength > 0 || incoming.Headers.ContainsKey("Transfer-Encoding"))
        {
            request.Content = new StreamContent(incoming.Body);
        }

        foreach (var (name, values) in incoming.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, values.ToArray()))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "http");

        using var response = await upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopByHop.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
