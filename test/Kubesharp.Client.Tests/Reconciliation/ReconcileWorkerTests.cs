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
        var worker = new ReconcileWorker("test", queue, (_, _) => throw StatusException.NotFound("", "secrets", "other"), logger);
        queue.Add("default/p");

        Assert.True(await worker.ProcessNextAsync(CancellationToken.None));

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Null(entry.Exception);
        Assert.Contains("not found", entry.Message, StringComparison.Ordinal);
        Assert.Equal(1, queue.NumRequeues("default/p"));
    }

    [Theory]
    [InlineData("pods", "p")]
    [InlineData("namespaces", "default")]
    public async Task ProcessNextAsync_QueuedObjectOrItsNamespaceNotFound_DoneWithoutWarning(string resource, string name)
    {
        using var queue = new WorkQueue<string>();
        var logger = new RecordingLogger();
        var worker = new ReconcileWorker("test", queue, (_, _) => throw StatusException.NotFound("", resource, name), logger);
        queue.Add("default/p");

        Assert.True(await worker.ProcessNextAsync(CancellationToken.None));

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Debug, entry.Level);
        Assert.Null(entry.Exception);
        Assert.Equal(0, queue.NumRequeues("default/p"));
        Assert.Equal(0, queue.Length);
    }

    [Fact]
    public async Task ProcessNextAsync_NamespaceTerminating_OneDebugLineAndRequeue()
    {
        using var queue = new WorkQueue<string>();
        var logger = new RecordingLogger();
        var terminating = new StatusException(403, StatusReason.Forbidden,
            "pods \"web-1\" is forbidden: unable to create new content in namespace t because it is being terminated",
            new StatusDetails { Name = "web-1", Kind = "pods", Causes = [new StatusCause("NamespaceTerminating", "namespace t is being terminated", "metadata.namespace")] });
        var worker = new ReconcileWorker("test", queue, (_, _) => throw terminating, logger);
        queue.Add("t/web");

        Assert.True(await worker.ProcessNextAsync(CancellationToken.None));

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Debug, entry.Level);
        Assert.Null(entry.Exception);
        Assert.Contains("t/web", entry.Message, StringComparison.Ordinal);
        Assert.Equal(1, queue.NumRequeues("t/web"));
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
}
