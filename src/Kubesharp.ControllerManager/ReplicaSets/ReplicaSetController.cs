using Kubesharp.Api.Apps.V1;
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
using Kubesharp.ControllerManager.Selection;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.ReplicaSets;

/// <summary>
/// Keeps the number of pods of each ReplicaSet (or ReplicationController, by <see cref="ReplicaSetKind"/>) at its
/// replicas and reports their readiness.
/// </summary>
internal sealed partial class ReplicaSetController : IController, IReconciler
{
    private readonly ControllerContext context;
    private readonly ReplicaSetKind kind;
    private readonly WorkQueue<string> queue;
    private readonly ControllerExpectations expectations;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<Pod> pods = null!;

    public ReplicaSetController(ControllerContext context, ReplicaSetKind? kind = null)
    {
        this.context = context;
        this.kind = kind ?? new AppsReplicaSetKind();
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        expectations = new ControllerExpectations(context.Time);
        logger = context.LoggerFactory.CreateLogger<ReplicaSetController>();
    }

    public string Name => kind.ControllerName;

    public void Register()
    {
        var podInformer = context.Informers.Informer<Pod>();
        pods = podInformer.Lister;
        kind.Register(
            context,
            syncs,
            rs => queue.Add(ObjectKey.Of(rs)),
            rs =>
            {
                expectations.Forget(ObjectKey.Of(rs));
                queue.Add(ObjectKey.Of(rs));
            });
        podInformer.AddEventHandler(OnPodAdd, OnPodUpdate, OnPodDelete);
        syncs.Add(podInformer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(context.Options.ReplicaSetWorkers, cancellationToken).ConfigureAwait(false);
    }

    private void OnPodAdd(Pod pod)
    {
        if (pod.Metadata?.DeletionTimestamp is not null)
        {
            OnPodDelete(pod);
            return;
        }

        if (Owner(pod) is { } owner)
        {
            expectations.CreationObserved(ObjectKey.Of(owner));
            queue.Add(ObjectKey.Of(owner));
            return;
        }

        EnqueueSelecting(pod);
    }

    private void OnPodUpdate(Pod old, Pod current)
    {
        if (current.Metadata?.DeletionTimestamp is not null && old.Metadata?.DeletionTimestamp is null)
        {
            OnPodDelete(current);
            return;
        }

        var oldOwner = Owner(old);
        var newOwner = Owner(current);
        if (oldOwner is not null && !ReferenceEquals(oldOwner, newOwner))
        {
            queue.Add(ObjectKey.Of(oldOwner));
        }

        if (newOwner is not null)
        {
            queue.Add(ObjectKey.Of(newOwner));
            return;
        }

        EnqueueSelecting(current);
    }

    private void OnPodDelete(Pod pod)
    {
        if (Owner(pod) is { } owner)
        {
            var key = ObjectKey.Of(owner);
            expectations.DeletionObserved(key, ObjectKey.Of(pod));
            queue.Add(key);
        }
    }

    /// <summary>An orphan may be adopted by any ReplicaSet selecting it.</summary>
    private void EnqueueSelecting(Pod pod)
    {
        var ns = pod.Metadata?.Namespace ?? string.Empty;
        foreach (var rs in kind.List(ns))
        {
            if (LabelSelectorEvaluator.Matches(rs.Spec?.Selector, pod.Metadata?.Labels))
            {
                queue.Add(ObjectKey.Of(rs));
            }
        }
    }

    private ReplicaSet? Owner(Pod pod)
    {
        var reference = ControllerRef.Of(pod.Metadata);
        if (reference is null || reference.Kind != kind.Kind || reference.Name is null)
        {
            return null;
        }

        var rs = kind.Get(pod.Metadata?.Namespace, reference.Name);
        return rs?.Metadata?.Uid == reference.Uid ? rs : null;
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        var cached = kind.Get(ns, name);
        if (cached is null)
        {
            expectations.Forget(key);
            return ReconcileResult.Done;
        }

        var rs = ObjectCopy.Clone(cached);
        var needsSync = expectations.Satisfied(key);
        var client = context.Client.Resource<Pod>();
        var meta = rs.Metadata!;
        var candidates = pods.List(ns).Where(PodReadiness.IsActive).ToList();
        var owned = await ControllerRefManager.ClaimAsync(
            client,
            meta,
            ControllerRef.New(kind.ApiVersion, kind.Kind, meta),
            rs.Spec?.Selector,
            candidates,
            ct => CanAdoptAsync(meta, ct),
            cancellationToken).ConfigureAwait(false);

        (bool Create, StatusException Error)? failure = null;
        if (needsSync && meta.DeletionTimestamp is null)
        {
            failure = await ManageReplicasAsync(key, rs, owned, cancellationToken).ConfigureAwait(false);
        }

        var now = context.Time.GetUtcNow();
        var status = ReplicaSetStatusCalculator.Calculate(rs, owned, now, failure is { } f ? (f.Create, f.Error.Message) : null);
        if (!ObjectCopy.SemanticEquals(rs.Status ?? new ReplicaSetStatus(), status))
        {
            rs.Status = status;
            await kind.UpdateStatusAsync(context.Client, rs, cancellationToken).ConfigureAwait(false);
        }

        if (failure is null && ReplicaSetStatusCalculator.NextAvailabilityCheck(rs, owned, now) is { } after)
        {
            return ReconcileResult.RequeueIn(after);
        }

        // The API's own error goes to the worker: its Status says what failed, a stack trace would add nothing.
        return failure is null ? ReconcileResult.Done : throw failure.Value.Error;
    }

    private async Task<bool> CanAdoptAsync(ObjectMeta meta, CancellationToken cancellationToken)
    {
        var fresh = await kind.GetLiveMetadataAsync(context.Client, meta.Namespace, meta.Name!, cancellationToken).ConfigureAwait(false);
        return fresh?.Uid == meta.Uid && fresh?.DeletionTimestamp is null;
    }

    private async Task<(bool Create, StatusException Error)?> ManageReplicasAsync(string key, ReplicaSet rs, List<Pod> owned, CancellationToken cancellationToken)
    {
        var related = RelatedPods(rs);
        var (create, delete) = ReplicaSetScaling.Plan(rs, owned, related);
        var client = context.Client.Resource<Pod>();
        if (create > 0)
        {
            expectations.ExpectCreations(key, create);
            var remaining = create;
            foreach (var batch in ReplicaSetScaling.SlowStartBatches(create))
            {
                var results = await Task.WhenAll(Enumerable.Range(0, batch).Select(_ => CreatePodAsync(client, rs, cancellationToken))).ConfigureAwait(false);
                remaining -= batch;
                var failed = results.Where(r => r is not null).ToList();
                if (failed.Count > 0)
                {
                    expectations.LowerCreations(key, failed.Count + remaining);
                    if (failed.All(e => e!.IsNamespaceTerminating()))
                    {
                        // As upstream: the namespace is going and takes this ReplicaSet with it; not a failure.
                        LogNamespaceTerminating(logger, kind.Kind, rs.Metadata?.Namespace, rs.Metadata?.Name);
                        return null;
                    }

                    return (true, failed.First(e => !e!.IsNamespaceTerminating())!);
                }
            }

            return null;
        }

        if (delete.Count > 0)
        {
            expectations.ExpectDeletions(key, delete.Select(p => ObjectKey.Of(p)));
            var results = await Task.WhenAll(delete.Select(async pod =>
            {
                try
                {
                    await client.DeleteAsync(pod.Metadata!.Namespace, pod.Metadata.Name!, new DeleteOptions { Preconditions = new Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken).ConfigureAwait(false);
                    Record(rs, "Normal", "SuccessfulDelete", $"Deleted pod: {pod.Metadata.Name}");
                    return null;
                }
                catch (StatusException e) when (e.IsNotFound())
                {
                    expectations.DeletionObserved(key, ObjectKey.Of(pod));
                    return null;
                }
                catch (StatusException e)
                {
                    expectations.DeletionObserved(key, ObjectKey.Of(pod));
                    Record(rs, "Warning", "FailedDelete", $"Error deleting: {e.Message}");
                    return e;
                }
            })).ConfigureAwait(false);
            if (results.FirstOrDefault(r => r is not null) is { } error)
            {
                return (false, error);
            }
        }

        return null;
    }

    private async Task<StatusException?> CreatePodAsync(ResourceClient<Pod> client, ReplicaSet rs, CancellationToken cancellationToken)
    {
        try
        {
            var created = await client.CreateAsync(ReplicaSetScaling.NewPod(rs, kind.ApiVersion, kind.Kind), cancellationToken: cancellationToken).ConfigureAwait(false);
            Record(rs, "Normal", "SuccessfulCreate", $"Created pod: {created.Metadata?.Name}");
            return null;
        }
        catch (StatusException e) when (e.IsNamespaceTerminating())
        {
            return e;
        }
        catch (StatusException e)
        {
            Record(rs, "Warning", "FailedCreate", $"Error creating: {e.Message}");
            LogCreateFailed(logger, kind.Kind, rs.Metadata?.Namespace, rs.Metadata?.Name, e.Message);
            return e;
        }
    }

    /// <summary>Pods of the other ReplicaSets of the same Deployment, used to spread deletions across nodes.</summary>
    private List<Pod> RelatedPods(ReplicaSet rs)
    {
        var owner = ControllerRef.Of(rs.Metadata);
        if (owner is null)
        {
            return [];
        }

        var siblings = kind.List(rs.Metadata!.Namespace!)
            .Where(other => ControllerRef.Of(other.Metadata)?.Uid == owner.Uid)
            .Select(other => other.Metadata!.Uid)
            .ToHashSet(StringComparer.Ordinal);
        return pods.List(rs.Metadata.Namespace!)
            .Where(p => ControllerRef.Of(p.Metadata)?.Uid is { } uid && siblings.Contains(uid))
            .ToList();
    }

    /// <summary>Events name the object the view stands for (a ReplicationController is not a ReplicaSet to its users).</summary>
    private void Record(ReplicaSet rs, string type, string reason, string message) =>
        context.Events.Record(rs, kind.ApiVersion, kind.Kind, type, reason, message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Kind} {Namespace}/{Name}: its namespace is terminating, no pods are created")]
    private static partial void LogNamespaceTerminating(ILogger logger, string kind, string? @namespace, string? name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Kind} {Namespace}/{Name}: creating a pod failed: {Error}")]
    private static partial void LogCreateFailed(ILogger logger, string kind, string? @namespace, string? name, string error);
}
