using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TraceProf.Encoding;
using TraceProf.Profiles;

namespace TraceProf.AspNetCore.Tests.Pyroscope;

/// <summary>
/// Stands in for a Pyroscope server (none can be installed here): a real Kestrel on 127.0.0.1 that answers Connect's
/// <c>push.v1.PusherService/Push</c> with JSON, and decodes every series' profile with TraceProf's own pprof decoder.
/// </summary>
internal sealed class PyroscopeReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PyroscopeReceiver(WebApplication app)
    {
        _app = app;
        Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    /// <summary>Gets the base URL to configure as <c>TraceProf:Pyroscope:Url</c>.</summary>
    public string Url { get; }

    /// <summary>Gets or sets the status every push is answered with.</summary>
    public int Status { get; set; } = StatusCodes.Status200OK;

    /// <summary>Gets every request received, in order.</summary>
    public ConcurrentQueue<ReceivedPush> Pushes { get; } = new();

    public static async Task<PyroscopeReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        PyroscopeReceiver? receiver = null;
        app.MapPost("/push.v1.PusherService/Push", async (HttpContext context) =>
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body);
            var series = new List<ReceivedSeries>();
            foreach (var one in body.RootElement.GetProperty("series").EnumerateArray())
            {
                var labels = one.GetProperty("labels").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!, l => l.GetProperty("value").GetString()!);
                foreach (var sample in one.GetProperty("samples").EnumerateArray())
                {
                    series.Add(new ReceivedSeries(labels, PprofDecoder.Decode(sample.GetProperty("rawProfile").GetBytesFromBase64()), sample.GetProperty("ID").GetString()!));
                }
            }

            receiver!.Pushes.Enqueue(new ReceivedPush(
                context.Request.ContentType ?? "",
                context.Request.Headers.Authorization.ToString(),
                context.Request.Headers["X-Scope-OrgID"].ToString(),
                context.Request.Headers["Connect-Protocol-Version"].ToString(),
                series));
            return receiver.Status == StatusCodes.Status200OK
                ? Results.Json(new { })
                : Results.Json(new { code = "unavailable", message = "test receiver says no" }, statusCode: receiver.Status);
        });
        await app.StartAsync();
        receiver = new PyroscopeReceiver(app);
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed record ReceivedPush(string ContentType, string Authorization, string TenantId, string ConnectVersion, IReadOnlyList<ReceivedSeries> Series);

internal sealed record ReceivedSeries(IReadOnlyDictionary<string, string> Labels, Profile Profile, string Id)
{
    public string Name => Labels["__name__"];
}
