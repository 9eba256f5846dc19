using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Security;

/// <summary>Outside Development, loopback trust with no API key is said once at start, with how to turn it off.</summary>
public sealed class LoopbackTrustWarningTests
{
    private const string EventName = "LoopbackTrustedWithoutApiKey";

    private static async Task<IReadOnlyList<(LogLevel Level, string EventName, string Message)>> StartAndCollectAsync(
        string environment, Action<TraceProfOptions> configure)
    {
        var logs = new CollectingLoggerProvider();
        await using (var host = await TraceProfHost.StartAsync(
            configure,
            builder => builder.Logging.AddProvider(logs),
            environmentName: environment))
        {
            // A few requests: the warning belongs to start, not to traffic.
            for (var i = 0; i < 3; i++)
            {
                (await host.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"))).Dispose();
            }
        }

        return logs.Entries.ToList();
    }

    [Fact]
    public async Task OutsideDevelopment_LoopbackTrustWithoutKey_LogsOneWarning_SayingHowToTurnItOff()
    {
        var entries = await StartAndCollectAsync("Production", o => o.ApiKeyHashes.Clear());
        var warning = Assert.Single(entries, e => e.EventName == EventName);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("TraceProf:TrustLoopback=false", warning.Message, StringComparison.Ordinal);
        Assert.Contains("TraceProf:ApiKeyHashes", warning.Message, StringComparison.Ordinal);
        Assert.Contains("Production", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InDevelopment_LogsNoWarning()
    {
        var entries = await StartAndCollectAsync("Development", o => o.ApiKeyHashes.Clear());
        Assert.DoesNotContain(entries, e => e.EventName == EventName);
        Assert.NotEmpty(entries); // the provider did collect: the absence means something
    }

    [Fact]
    public async Task WithAnApiKey_LogsNoWarning()
    {
        var entries = await StartAndCollectAsync("Production", _ => { });
        Assert.DoesNotContain(entries, e => e.EventName == EventName);
    }

    [Fact]
    public async Task WithAKeyBoundToARole_LogsNoWarning()
    {
        var entries = await StartAndCollectAsync("Production", o =>
        {
            o.ApiKeyHashes.Clear();
            o.ApiKeys.Add(new TraceProfApiKey { Hash = TraceProfHost.ApiKeyHash, Role = "admin" });
        });
        Assert.DoesNotContain(entries, e => e.EventName == EventName);
    }

    [Fact]
    public async Task WithLoopbackTrustOff_LogsNoWarning()
    {
        var entries = await StartAndCollectAsync("Production", o =>
        {
            o.ApiKeyHashes.Clear();
            o.TrustLoopback = false;
        });
        Assert.DoesNotContain(entries, e => e.EventName == EventName);
    }

    private sealed class CollectingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<(LogLevel Level, string EventName, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Collector(this);

        public void Dispose()
        {
        }

        private sealed class Collector(CollectingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Entries.Enqueue((logLevel, eventId.Name ?? "", formatter(state, exception)));
        }
    }
}
