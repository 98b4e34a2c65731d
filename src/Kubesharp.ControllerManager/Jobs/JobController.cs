using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Expectations;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;
using Kubesharp.ControllerManager.Pods;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Jobs;

/// <summary>
/// Runs each Job's pods to completion: creates and deletes pods as <see cref="JobSync"/> plans, counts finished
/// pods through the <c>batch.kubernetes.io/job-tracking</c> finalizer and writes the Job's status and conditions.
/// </summary>
internal sealed partial class JobController : IController, IReconciler
{
    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;

    /// <summary>Keys of pods that carry the tracking finalizer but no Job counts them any more (orphans).</summary>
    private readonly WorkQueue<string> orphanPods;
    private readonly ControllerExpectations expectations;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private readonly Dictionary<string, HashSet<string>> finalizerRemovals = new(StringComparer.Ordinal);
    private readonly Lock gate = new();
    private Lister<Job> jobs = null!;
    private Lister<Pod> pods = null!;

    private const string RemoveFinalizerPatch = """{"metadata":{"$deleteFromPrimitiveList/finalizers":["batch.kubernetes.io/job-tracking"]}}""";

    public JobController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        orphanPods = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        expectations = new ControllerExpectations(context.Time);
        logger = context.LoggerFactory.CreateLogger<JobController>();
    }

    public string Name => "job";

    public void Register()
    {
        var jobInformer = context.Informers.Informer<Job>();
        var podInformer = context.Informers.Informer<Pod>();
        jobs = jobInformer.Lister;
        pods = podInformer.Lister;
        jobInformer.AddEventHandler(
            job => queue.Add(ObjectKey.Of(job)),
            (_, job) => queue.Add(ObjectKey.Of(job)),
            job =>
            {
                var key = ObjectKey.Of(job);
                expectations.Forget(key);
                lock (gate)
                {
                    finalizerRemovals.Remove(key);
                }

                queue.Add(key);
            });
        podInformer.AddEventHandler(OnPodAdd, OnPodUpdate, OnPodDelete);
        syncs.Add(jobInformer.WaitForSyncAsync);
        syncs.Add(podInformer.WaitForSyncAsync);
    }

    public void Dispose()
    {
        queue.Dispose();
        orphanPods.Dispose();
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(
            new ReconcileWorker(Name, queue, this, logger).RunAsync(context.Options.JobWorkers, cancellationToken),
            new ReconcileWorker(Name + "-orphan-pod", orphanPods, ReleaseOrphanPodAsync, logger).RunAsync(1, cancellationToken)).ConfigureAwait(false);
    }

    private void OnPodAdd(Pod pod)
    {
        EnqueueIfOrphan(pod);
        if (OwnerKey(pod) is not { } key)
        {
            return;
        }

        if (pod.Metadata?.DeletionTimestamp is not null)
        {
            expectations.DeletionObserved(key, ObjectKey.Of(pod));
        }
        else
        {
            expectations.CreationObserved(key);
        }

        FinalizerObserved(key, pod);
        queue.Add(key);
    }

    private void OnPodUpdate(Pod old, Pod current)
    {
        EnqueueIfOrphan(current);
        var oldKey = OwnerKey(old);
        var key = OwnerKey(current);
        if (oldKey is not null && oldKey != key)
        {
            queue.Add(oldKey);
        }

        if (key is null)
        {
            return;
        }

        if (current.Metadata?.DeletionTimestamp is not null && old.Metadata?.DeletionTimestamp is null)
        {
            expectations.DeletionObserved(key, ObjectKey.Of(current));
        }

        FinalizerObserved(key, current);
        queue.Add(key);
    }

    private void OnPodDelete(Pod pod)
    {
        if (OwnerKey(pod) is not { } key)
        {
            return;
        }

        expectations.DeletionObserved(key, ObjectKey.Of(pod));
        lock (gate)
        {
            if (finalizerRemovals.TryGetValue(key, out var uids))
            {
                uids.Remove(pod.Metadata?.Uid ?? string.Empty);
            }
        }

        queue.Add(key);
    }

    /// <summary>
    /// A pod with the tracking finalizer that no running Job controls (released, orphaned by <c>--cascade=orphan</c>,
    /// its Job gone or finished) would never lose it: it is queued for <see cref="ReleaseOrphanPodAsync"/>.
    /// </summary>
    private void EnqueueIfOrphan(Pod pod)
    {
        if (!JobPods.HasTrackingFinalizer(pod))
        {
            return;
        }

        if (ControllingJob(pod) is not { } job || JobConditions.IsFinished(job))
        {
            orphanPods.Add(ObjectKey.Of(pod));
        }
    }

    /// <summary>The Job that controls the pod, as the cache has it (the same uid), or null.</summary>
    private Job? ControllingJob(Pod pod)
    {
        if (OwnerKey(pod) is not { } key)
        {
            return null;
        }

        var (ns, name) = ObjectKey.Split(key);
        var job = jobs.Get(ns, name);
        return job is not null && job.Metadata?.Uid == ControllerRef.Of(pod.Metadata)?.Uid ? job : null;
    }

    /// <summary>
    /// Removes the tracking finalizer of an orphan pod, as upstream's job controller does: unless it was adopted by a
    /// Job that is still running, or is controlled by something other than a Job, or its Job is managed elsewhere.
    /// </summary>
    private async Task<ReconcileResult> ReleaseOrphanPodAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        if (pods.Get(ns, name) is not { } pod || !JobPods.HasTrackingFinalizer(pod))
        {
            return ReconcileResult.Done;
        }

        if (ControllerRef.Of(pod.Metadata) is not null)
        {
            if (OwnerKey(pod) is null)
            {
                return ReconcileResult.Done;
            }

            if (ControllingJob(pod) is { } job && (job.Spec?.ManagedBy is { } managedBy && managedBy != "kubernetes.io/job-controller" || !JobConditions.IsFinished(job)))
            {
                return ReconcileResult.Done;
            }
        }

        try
        {
            await context.Client.Resource<Pod>().PatchAsync(ns, name, PatchType.StrategicMerge, RemoveFinalizerPatch, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
        }

        return ReconcileResult.Done;
    }

    /// <summary>A pod seen without the finalizer no longer needs to be skipped as "removal in flight".</summary>
    private void FinalizerObserved(string key, Pod pod)
    {
        if (JobPods.HasTrackingFinalizer(pod))
        {
            return;
        }

        lock (gate)
        {
            if (finalizerRemovals.TryGetValue(key, out var uids))
            {
                uids.Remove(pod.Metadata?.Uid ?? string.Empty);
            }
        }
    }

    /// <summary>The key of the Job controlling the pod (by owner reference; the Job may already be gone).</summary>
    private static string? OwnerKey(Pod pod)
    {
        var reference = ControllerRef.Of(pod.Metadata);
        return reference is { Kind: Job.KubeKind, Name: { } name } && reference.ApiVersion?.StartsWith("batch/", StringComparison.Ordinal) == true
            ? ObjectKey.Of(pod.Metadata?.Namespace, name)
            : null;
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        var cached = jobs.Get(ns, name);
        if (cached is null)
        {
            expectations.Forget(key);
            await ReleaseOrphansAsync(ns, name, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        if (cached.Spec?.ManagedBy is { } managedBy && managedBy != "kubernetes.io/job-controller")
        {
            return ReconcileResult.Done;
        }

        var job = ObjectCopy.Clone(cached);
        var meta = job.Metadata!;
        var manage = expectations.Satisfied(key);
        var owned = await ControllerRefManager.ClaimAsync(
            context.Client.Resource<Pod>(),
            meta,
            ControllerRef.New(Job.KubeApiVersion, Job.KubeKind, meta),
            job.Spec?.Selector,
            pods.List(ns),
            ct => CanAdoptAsync(meta, ct),
            cancellationToken).ConfigureAwait(false);
        // Released or foreign pods may still carry our finalizer (orphans): they are not ours to count.
        IReadOnlySet<string> inFlight;
        lock (gate)
        {
            inFlight = finalizerRemovals.TryGetValue(key, out var uids) ? new HashSet<string>(uids, StringComparer.Ordinal) : new HashSet<string>();
        }

        var plan = JobSync.Plan(job, owned, inFlight, context.Time.GetUtcNow(), manage);
        var jobClient = context.Client.Resource<Job>();
        if (plan.Interim is { } interim)
        {
            job = await jobClient.UpdateStatusAsync(job with { Status = interim }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var finalizerFailure = await RemoveFinalizersAsync(key, plan.RemoveFinalizers.Concat(plan.Delete.Where(JobPods.HasTrackingFinalizer)).DistinctBy(p => p.Metadata?.Uid), cancellationToken).ConfigureAwait(false);
        if (finalizerFailure is not null)
        {
            // The interim status keeps the finished pods as uncounted; the next round removes the rest.
            throw new InvalidOperationException(finalizerFailure);
        }

        var failure = await DeletePodsAsync(key, job, plan.Delete, cancellationToken).ConfigureAwait(false);
        failure ??= await CreatePodsAsync(key, job, plan.Create, cancellationToken).ConfigureAwait(false);

        if (!ObjectCopy.SemanticEquals(job.Status ?? new JobStatus(), plan.Status))
        {
            await jobClient.UpdateStatusAsync(job with { Status = plan.Status }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        foreach (var e in plan.Events)
        {
            context.Events.Record(job, e.Type, e.Reason, e.Message);
        }

        if (failure is not null)
        {
            throw new InvalidOperationException(failure);
        }

        return plan.RequeueAfter is { } after ? ReconcileResult.RequeueIn(after) : ReconcileResult.Done;
    }

    /// <summary>Pods of a deleted Job keep nothing from going away: their finalizers are removed (orphans).</summary>
    private async Task ReleaseOrphansAsync(string ns, string name, CancellationToken cancellationToken)
    {
        var orphans = pods.List(ns).Where(p => JobPods.HasTrackingFinalizer(p) && ControllerRef.Of(p.Metadata) is { Kind: Job.KubeKind } r && r.Name == name).ToList();
        var failure = await RemoveFinalizersAsync(ObjectKey.Of(ns, name), orphans, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            throw new InvalidOperationException(failure);
        }
    }

    private async Task<bool> CanAdoptAsync(ObjectMeta meta, CancellationToken cancellationToken)
    {
        var fresh = await context.Client.Resource<Job>().GetAsync(meta.Namespace, meta.Name!, cancellationToken).ConfigureAwait(false);
        return fresh.Metadata?.Uid == meta.Uid && fresh.Metadata?.DeletionTimestamp is null;
    }

    private async Task<string?> RemoveFinalizersAsync(string key, IEnumerable<Pod> targets, CancellationToken cancellationToken)
    {
        var list = targets.ToList();
        if (list.Count == 0)
        {
            return null;
        }

        lock (gate)
        {
            if (!finalizerRemovals.TryGetValue(key, out var uids))
            {
                finalizerRemovals[key] = uids = new HashSet<string>(StringComparer.Ordinal);
            }

            uids.UnionWith(list.Select(p => p.Metadata?.Uid ?? string.Empty));
        }

        var client = context.Client.Resource<Pod>();
        var results = await Task.WhenAll(list.Select(async pod =>
        {
            try
            {
                await client.PatchAsync(pod.Metadata!.Namespace, pod.Metadata.Name!, PatchType.StrategicMerge, RemoveFinalizerPatch, cancellationToken: cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (StatusException e) when (e.IsNotFound())
            {
                return null;
            }
            catch (StatusException e)
            {
                lock (gate)
                {
                    finalizerRemovals.GetValueOrDefault(key)?.Remove(pod.Metadata?.Uid ?? string.Empty);
                }

                return e.Message;
            }
        })).ConfigureAwait(false);
        return results.FirstOrDefault(r => r is not null);
    }

    private async Task<string?> DeletePodsAsync(string key, Job job, IReadOnlyList<Pod> targets, CancellationToken cancellationToken)
    {
        if (targets.Count == 0)
        {
            return null;
        }

        return await ControlledPodDeletion.DeleteAsync(context, expectations, key, job, targets, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string?> CreatePodsAsync(string key, Job job, IReadOnlyList<(int? Index, int FailureCount)> targets, CancellationToken cancellationToken)
    {
        if (targets.Count == 0)
        {
            return null;
        }

        expectations.ExpectCreations(key, targets.Count);
        var client = context.Client.Resource<Pod>();
        var offset = 0;
        foreach (var batch in ReplicaSets.ReplicaSetScaling.SlowStartBatches(targets.Count))
        {
            var slice = targets.Skip(offset).Take(batch).ToList();
            offset += batch;
            var results = await Task.WhenAll(slice.Select(async target =>
            {
                try
                {
                    var created = await client.CreateAsync(JobPods.New(job, target.Index, target.FailureCount), cancellationToken: cancellationToken).ConfigureAwait(false);
                    context.Events.Record(job, "Normal", "SuccessfulCreate", $"Created pod: {created.Metadata?.Name}");
                    return null;
                }
                catch (StatusException e)
                {
                    context.Events.Record(job, "Warning", "FailedCreate", $"Error creating: {e.Message}");
                    LogCreateFailed(logger, job.Metadata?.Namespace, job.Metadata?.Name, e.Message);
                    return e.Message;
                }
            })).ConfigureAwait(false);
            var failed = results.Count(r => r is not null);
            if (failed > 0)
            {
                expectations.LowerCreations(key, failed + targets.Count - offset);
                return results.First(r => r is not null);
            }
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Namespace}/{Name}: creating a pod failed: {Error}")]
    private static partial void LogCreateFailed(ILogger logger, string? @namespace, string? name, string error);
}
