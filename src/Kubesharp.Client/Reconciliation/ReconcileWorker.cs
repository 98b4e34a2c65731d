using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Client.Reconciliation;

/// <summary>
/// Worker loops that take keys from a work queue and reconcile them: success forgets the key's backoff
/// (and honours RequeueAfter); a failure re-adds it rate-limited. As upstream's controllers, a NotFound of the
/// queued object (or of its namespace) means it is gone and the key is done, and a write refused because the
/// namespace is terminating is expected: neither is a warning. Call <see cref="RunAsync"/> from a hosted
/// service's ExecuteAsync; it returns after cancellation once in-flight reconciles finish.
/// </summary>
public sealed partial class ReconcileWorker
{
    private readonly string name;
    private readonly WorkQueue<string> queue;
    private readonly Func<string, CancellationToken, Task<ReconcileResult>> reconcile;
    private readonly ILogger logger;

    public ReconcileWorker(string name, WorkQueue<string> queue, IReconciler reconciler, ILogger? logger = null)
        : this(name, queue, (reconciler ?? throw new ArgumentNullException(nameof(reconciler))).ReconcileAsync, logger)
    {
    }

    public ReconcileWorker(string name, WorkQueue<string> queue, Func<string, CancellationToken, Task<ReconcileResult>> reconcile, ILogger? logger = null)
    {
        this.name = name;
        this.queue = queue;
        queue.EnableMetrics(name);
        this.reconcile = reconcile;
        this.logger = logger ?? NullLogger.Instance;
    }

    public WorkQueue<string> Queue => queue;

    public async Task RunAsync(int workers, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        using var registration = cancellationToken.Register(queue.ShutDown);
        var loops = Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkAsync(cancellationToken), CancellationToken.None)).ToArray();
        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    /// <summary>Processes one key; false when the queue is shut down.</summary>
    public async Task<bool> ProcessNextAsync(CancellationToken cancellationToken)
    {
        var (ok, key) = await queue.GetAsync(cancellationToken).ConfigureAwait(false);
        if (!ok)
        {
            return false;
        }

        try
        {
            var result = await reconcile(key, cancellationToken).ConfigureAwait(false);
            queue.Forget(key);
            if (result.RequeueAfter is { } after)
            {
                queue.AddAfter(key, after);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (StatusException e) when (e.IsNotFound() && NamesKey(e, key))
        {
            // Deleted while queued: nothing is left to reconcile.
            LogReconcileGone(logger, name, key, e.Message);
            queue.Forget(key);
        }
        catch (StatusException e) when (e.IsNamespaceTerminating())
        {
            // Namespace deletion removes the object soon; until then every write in the namespace is refused.
            LogReconcileNamespaceTerminating(logger, name, key, e.Message);
            queue.AddRateLimited(key);
        }
        catch (StatusException e) when (e.IsConflict())
        {
            // A stale read lost an optimistic-concurrency race: expected, the retry reads the newer object.
            LogReconcileConflict(logger, name, key, e.Message);
            queue.AddRateLimited(key);
        }
        catch (StatusException e)
        {
            // The API answered with a Status: its message says it all, a stack trace adds nothing.
            LogReconcileRejected(logger, name, key, queue.NumRequeues(key), e.Code, e.Reason, e.Message);
            queue.AddRateLimited(key);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogReconcileFailed(logger, name, key, queue.NumRequeues(key), e);
            queue.AddRateLimited(key);
        }
        finally
        {
            queue.Done(key);
        }

        return true;
    }

    /// <summary>Whether a NotFound is about the queued object itself or its namespace.</summary>
    private static bool NamesKey(StatusException error, string key)
    {
        var (ns, objectName) = ObjectKey.Split(key);
        return error.Details is { Name: { Length: > 0 } missing } details
            && (missing == objectName || (ns.Length > 0 && missing == ns && details.Kind == "namespaces"));
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await ProcessNextAsync(cancellationToken).ConfigureAwait(false))
            {
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Controller}: reconcile of {Key} hit a conflict, requeued: {Error}")]
    private static partial void LogReconcileConflict(ILogger logger, string controller, string key, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Controller}: {Key} is gone, done: {Error}")]
    private static partial void LogReconcileGone(ILogger logger, string controller, string key, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Controller}: {Key} waits for its namespace to terminate, requeued: {Error}")]
    private static partial void LogReconcileNamespaceTerminating(ILogger logger, string controller, string key, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Controller}: reconcile of {Key} failed (requeues {Requeues}): {Code} {Reason}: {Error}")]
    private static partial void LogReconcileRejected(ILogger logger, string controller, string key, int requeues, int code, string reason, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Controller}: reconcile of {Key} failed (requeues {Requeues})")]
    private static partial void LogReconcileFailed(ILogger logger, string controller, string key, int requeues, Exception exception);
}
