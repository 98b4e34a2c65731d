using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Client.Tests;

/// <summary>Keeps every line logged to it (thread-safe), as a logger provider and as a logger.</summary>
internal sealed class RecordingLogger : ILogger, ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> entries = new();

    public IReadOnlyList<(LogLevel Level, string Message, Exception? Exception)> Entries => [.. entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        entries.Enqueue((logLevel, formatter(state, exception), exception));

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }
}
