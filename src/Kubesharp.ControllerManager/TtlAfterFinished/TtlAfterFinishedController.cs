using Kubesharp.Api.Batch.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Jobs;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.TtlAfterFinished;

/// <summary>
/// Deletes finished Jobs (with their pods, in the foreground) once <c>spec.ttlSecondsAfterFinished</c> has passed
/// since they completed or failed.
/// </summary>
internal sealed partial class TtlAfterFinishedController : IController, IReconciler
{
    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<Job> jobs = null!;

    public TtlAfterFinishedController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<TtlAfterFinishedController>();
    }

    public string Name => "ttl-after-finished";

    public void Register()
    {
        var informer = context.Informers.Informer<Job>();
        jobs = informer.Lister;
        informer.AddEventHandler(Enqueue, (_, job) => Enqueue(job));
        syncs.Add(informer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(1, cancellationToken).ConfigureAwait(false);
    }

    private void Enqueue(Job job)
    {
        if (NeedsCleanup(job))
        {
            queue.Add(ObjectKey.Of(job));
        }
    }

    private static bool NeedsCleanup(Job job) =>
        job.Spec?.TtlSecondsAfterFinished is not null && job.Metadata?.DeletionTimestamp is null && JobConditions.IsFinished(job);

    /// <summary>When the Job may be deleted, or null when it is not due for deletion at all.</summary>
    public static DateTimeOffset? ExpiresAt(Job job)
    {
        if (!NeedsCleanup(job) || JobConditions.Finished(job)?.LastTransitionTime is not { } finishedAt)
        {
            return null;
        }

        return finishedAt.AddSeconds(job.Spec!.TtlSecondsAfterFinished!.Value);
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        if (jobs.Get(ns, name) is not { } cached || ExpiresAt(cached) is not { } expires)
        {
            return ReconcileResult.Done;
        }

        var left = expires - context.Time.GetUtcNow();
        if (left > TimeSpan.Zero)
        {
            return ReconcileResult.RequeueIn(left);
        }

        // The cache may be stale (the TTL changed, the Job was recreated): decide on the live object.
        var client = context.Client.Resource<Job>();
        Job fresh;
        try
        {
            fresh = await client.GetAsync(ns, name, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return ReconcileResult.Done;
        }

        if (ExpiresAt(fresh) is not { } freshExpires)
        {
            return ReconcileResult.Done;
        }

        left = freshExpires - context.Time.GetUtcNow();
        if (left > TimeSpan.Zero)
        {
            return ReconcileResult.RequeueIn(left);
        }

        try
        {
            await client.DeleteAsync(ns, name, new DeleteOptions
            {
                PropagationPolicy = "Foreground",
                Preconditions = new Preconditions { Uid = fresh.Metadata?.Uid, ResourceVersion = fresh.Metadata?.ResourceVersion },
            }, cancellationToken).ConfigureAwait(false);
            LogDeleted(logger, ns, name);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
        }

        return ReconcileResult.Done;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Namespace}/{Name} finished and its time to live passed: deleted")]
    private static partial void LogDeleted(ILogger logger, string @namespace, string name);
}
