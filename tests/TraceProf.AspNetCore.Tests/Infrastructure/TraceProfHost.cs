using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TraceProf.AspNetCore;

namespace TraceProf.AspNetCore.Tests.Infrastructure;

/// <summary>A real Kestrel host on 127.0.0.1 with TraceProf, its own snapshot folder, and a client for it.</summary>
public sealed class TraceProfHost : IAsyncDisposable
{
    public const string ApiKey = "test-api-key-0123456789";

    private readonly WebApplication _app;

    private readonly bool _ownsStorage;

    private TraceProfHost(WebApplication app, string storagePath, bool ownsStorage)
    {
        _app = app;
        _ownsStorage = ownsStorage;
        StoragePath = storagePath;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(2) };
    }

    public HttpClient Client { get; }

    public string StoragePath { get; }

    public IServiceProvider Services => _app.Services;

    public static string ApiKeyHash => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ApiKey))).ToLowerInvariant();

    public static async Task<TraceProfHost> StartAsync(
        Action<TraceProfOptions>? configure = null,
        Action<WebApplicationBuilder>? configureBuilder = null,
        Action<WebApplication>? configureApp = null,
        string? storagePath = null,
        string environmentName = "Testing")
    {
        var ownsStorage = storagePath is null;
        storagePath ??= Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environmentName, ApplicationName = "TraceProf.AspNetCore.Tests" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddTraceProf(options =>
        {
            options.Storage.Path = storagePath;
            options.ApiKeyHashes.Add(ApiKeyHash);

            // Every host would otherwise open its own recorder session; the flight recorder's tests turn it on.
            options.FlightRecorder.Enabled = false;
            configure?.Invoke(options);
        });
        configureBuilder?.Invoke(builder);
        var app = builder.Build();
        configureApp?.Invoke(app);
        app.MapGet("/hello", () => "hello");
        await app.StartAsync();
        return new TraceProfHost(app, storagePath, ownsStorage);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsStorage)
        {
            DeleteStorage(StoragePath);
        }
    }

    public static void DeleteStorage(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
