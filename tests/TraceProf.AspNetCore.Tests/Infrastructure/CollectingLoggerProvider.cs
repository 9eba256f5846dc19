using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TraceProf.AspNetCore.Tests.Infrastructure;

/// <summary>Keeps every message logged through it (category, event name, text), for tests that read the log.</summary>
public sealed class CollectingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, string? EventName, string Message)> _entries = new();

    public IReadOnlyCollection<(string Category, string? EventName, string Message)> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Collector(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class Collector(string category, ConcurrentQueue<(string, string?, string)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue((category, eventId.Name, formatter(state, exception)));
    }
}
