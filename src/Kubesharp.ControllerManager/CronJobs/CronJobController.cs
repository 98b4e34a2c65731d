using Kubesharp.Api.Batch.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.CronJobs;

/// <summary>Starts a CronJob's Jobs on its schedule, as <see cref="CronJobSync"/> plans, and keeps its status.</summary>
internal sealed partial class CronJobController : IController, IReconciler
{
    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<CronJob> cronJobs = null!;
    private Lister<Job> jobs = null!;

    public CronJobController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<CronJobController>();
    }

    public string Name => "cronjob";

    public void Register()
    {
        var cronJobInformer = context.Informers.Informer<CronJob>();
        var jobInformer = context.Informers.Informer<Job>();
        cronJobs = cronJobInformer.Lister;
        jobs = jobInformer.Lister;
        cronJobInformer.AddEventHandler(cj => queue.Add(ObjectKey.Of(cj)), (_, cj) => queue.Add(ObjectKey.Of(cj)));
        jobInformer.AddEventHandler(EnqueueOwner, (_, job) => EnqueueOwner(job), EnqueueOwner);
        syncs.Add(cronJobInformer.WaitForSyncAsync);
        syncs.Add(jobInformer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(context.Options.CronJobWorkers, cancellationToken).ConfigureAwait(false);
    }

    private void EnqueueOwner(Job job)
    {
        if (ControllerRef.Of(job.Metadata) is { Kind: CronJob.KubeKind, Name: { } name })
        {
            queue.Add(ObjectKey.Of(job.Metadata?.Namespace, name));
        }
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        if (cronJobs.Get(ns, name) is not { } cached)
        {
            return ReconcileResult.Done;
        }

        var cronJob = ObjectCopy.Clone(cached);
        var uid = cronJob.Metadata?.Uid;
        var owned = jobs.List(ns).Where(j => ControllerRef.IsControlledBy(j.Metadata, uid)).ToList();
        var jobClient = context.Client.Resource<Job>();

        // A Job just created may not be cached yet: ask the API before calling an active one missing.
        foreach (var reference in cronJob.Status?.Active ?? [])
        {
            if (reference.Name is { } jobName && !owned.Any(j => j.Metadata?.Uid == reference.Uid))
            {
                try
                {
                    var live = await jobClient.GetAsync(ns, jobName, cancellationToken).ConfigureAwait(false);
                    if (live.Metadata?.Uid == reference.Uid)
                    {
                        owned.Add(live);
                    }
                }
                catch (StatusException e) when (e.IsNotFound())
                {
                }
            }
        }

        var plan = CronJobSync.Plan(cronJob, owned, context.Time.GetUtcNow());
        var status = plan.Status;
        string? failure = null;
        foreach (var job in plan.Replace)
        {
            failure ??= await DeleteJobAsync(cronJob, job, cancellationToken).ConfigureAwait(false);
        }

        if (plan.Create is { } request && failure is null)
        {
            try
            {
                var created = await jobClient.CreateAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
                status.Active = [.. status.Active ?? [], CronJobSync.Reference(created)];
                context.Events.Record(cronJob, "Normal", "SuccessfulCreate", $"Created job {created.Metadata?.Name}");
            }
            catch (StatusException e) when (e.IsAlreadyExists())
            {
                // Created before (a status write was lost): take it on if it is ours.
                var existing = await jobClient.GetAsync(ns, request.Metadata!.Name!, cancellationToken).ConfigureAwait(false);
                if (ControllerRef.IsControlledBy(existing.Metadata, uid) && !Jobs.JobConditions.IsFinished(existing) && status.Active?.Any(r => r.Uid == existing.Metadata?.Uid) != true)
                {
                    status.Active = [.. status.Active ?? [], CronJobSync.Reference(existing)];
                }
            }
            catch (StatusException e)
            {
                context.Events.Record(cronJob, "Warning", "FailedCreate", $"Error creating job: {e.Message}");
                status.LastScheduleTime = cronJob.Status?.LastScheduleTime;
                failure = e.Message;
            }
        }

        if (!ObjectCopy.SemanticEquals(cronJob.Status ?? new CronJobStatus(), status))
        {
            await context.Client.Resource<CronJob>().UpdateStatusAsync(cronJob with { Status = status }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        foreach (var job in plan.Prune)
        {
            failure ??= await DeleteJobAsync(cronJob, job, cancellationToken).ConfigureAwait(false);
        }

        foreach (var e in plan.Events)
        {
            context.Events.Record(cronJob, e.Type, e.Reason, e.Message);
        }

        if (failure is not null)
        {
            throw new InvalidOperationException(failure);
        }

        return plan.RequeueAfter is { } after ? ReconcileResult.RequeueIn(after) : ReconcileResult.Done;
    }

    private async Task<string?> DeleteJobAsync(CronJob cronJob, Job job, CancellationToken cancellationToken)
    {
        try
        {
            await context.Client.Resource<Job>().DeleteAsync(job.Metadata!.Namespace, job.Metadata.Name!, new DeleteOptions
            {
                PropagationPolicy = "Background",
                Preconditions = new Preconditions { Uid = job.Metadata.Uid },
            }, cancellationToken).ConfigureAwait(false);
            context.Events.Record(cronJob, "Normal", "SuccessfulDelete", $"Deleted job {job.Metadata.Name}");
            return null;
        }
        catch (StatusException e) when (e.IsNotFound() || e.IsConflict())
        {
            return null;
        }
        catch (StatusException e)
        {
            context.Events.Record(cronJob, "Warning", "FailedDelete", $"Deleted job: {e.Message}");
            LogDeleteFailed(logger, job.Metadata?.Namespace, job.Metadata?.Name, e.Message);
            return e.Message;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Namespace}/{Name} of a CronJob: deleting failed: {Error}")]
    private static partial void LogDeleteFailed(ILogger logger, string? @namespace, string? name, string error);
}
