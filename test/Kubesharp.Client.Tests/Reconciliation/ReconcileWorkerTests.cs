using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Client.Tests.Reconciliation;

public sealed class ReconcileWorkerTests
{
    [Fact]
    public async Task ProcessNextAsync_Conflict_LogsOneDebugLineWithoutExceptionAndRequeues()
    {
        using var queue = new WorkQueue<string>();
        var logger = new RecordingLogger();
        var worker = new ReconcileWorker("test", queue, (_, _) => throw StatusException.Conflict("apps", "deployments", "web"), logger);
        queue.Add("default/web");

        Assert.True(await worker.ProcessNextAsync(CancellationToken.None));

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Debug, entry.Level);
        Assert.Null(entry.Exception);
        Assert.Contains("default/web", entry.Message, StringComparison.Ordinal);
        Assert.Equal(1, queue.NumRequeues("default/web"));
    }

    [Fact]
    public async Task ProcessNextAsync_OtherStatus_WarnsWithoutStackTrace()
    {
        using var queue = new WorkQueue<string>();
        var logger = new RecordingLogger();
        var worker = new ReconcileWorker("test", queue, (_, _) => throw StatusException.NotFound("", "pods", "p"), logger);
        queue.Add("default/p");

        Assert.True(await worker.ProcessNextAsync(CancellationToken.None));

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Null(entry.Exception);
        Assert.Contains("not found", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProcessNextAsync_UnexpectedException_WarnsWithException()
    {
        using var queue = new WorkQueue<string>();
        var logger = new RecordingLogger();
        var worker = new ReconcileWorker("test", queue, (_, _) => throw new InvalidOperationException("boom"), logger);
        queue.Add("default/x");

        Assert.True(await worker.ProcessNextAsync(CancellationToken.None));

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.IsType<InvalidOperationException>(entry.Exception);
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception), exception));
    }
}
