using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.ControllerRevisions;
using Kubesharp.ControllerManager.Expectations;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;
using Kubesharp.ControllerManager.Selection;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.StatefulSets;

/// <summary>
/// Runs StatefulSets: pods with stable names and claims created and deleted in ordinal order, rolling updates
/// through ControllerRevisions, and the set's status.
/// </summary>
internal sealed partial class StatefulSetController : IController, IReconciler
{
    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly ControllerExpectations expectations;
    private readonly ControllerRevisionWriter revisionWriter;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<StatefulSet> sets = null!;
    private Lister<Pod> pods = null!;
    private Lister<ControllerRevision> revisions = null!;
    private Lister<PersistentVolumeClaim> claims = null!;

    public StatefulSetController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        expectations = new ControllerExpectations(context.Time);
        revisionWriter = new ControllerRevisionWriter(context.Client);
        logger = context.LoggerFactory.CreateLogger<StatefulSetController>();
    }

    public string Name => "statefulset";

    public void Register()
    {
        var setInformer = context.Informers.Informer<StatefulSet>();
        var podInformer = context.Informers.Informer<Pod>();
        var revisionInformer = context.Informers.Informer<ControllerRevision>();
        var claimInformer = context.Informers.Informer<PersistentVolumeClaim>();
        sets = setInformer.Lister;
        pods = podInformer.Lister;
        revisions = revisionInformer.Lister;
        claims = claimInformer.Lister;
        setInformer.AddEventHandler(
            s => queue.Add(ObjectKey.Of(s)),
            (_, s) => queue.Add(ObjectKey.Of(s)),
            s =>
            {
                expectations.Forget(ObjectKey.Of(s));
                queue.Add(ObjectKey.Of(s));
            });
        podInformer.AddEventHandler(new OwnedPodEventHandler(StatefulSet.KubeKind, queue, expectations, EnqueueSelecting));
        revisionInformer.AddEventHandler(
            r => EnqueueOwner(r.Metadata),
            (_, r) => EnqueueOwner(r.Metadata),
            r => EnqueueOwner(r.Metadata));
        syncs.Add(setInformer.WaitForSyncAsync);
        syncs.Add(podInformer.WaitForSyncAsync);
        syncs.Add(revisionInformer.WaitForSyncAsync);
        syncs.Add(claimInformer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(context.Options.StatefulSetWorkers, cancellationToken).ConfigureAwait(false);
    }

    private static string? Owner(ObjectMeta? meta) => OwnedPodEventHandler.Owner(meta, StatefulSet.KubeKind);

    private void EnqueueOwner(ObjectMeta? meta)
    {
        if (Owner(meta) is { } owner)
        {
            queue.Add(owner);
        }
    }

    /// <summary>An orphan with a member's name may be adopted by the set selecting it.</summary>
    private void EnqueueSelecting(Pod pod)
    {
        foreach (var set in sets.List(pod.Metadata?.Namespace ?? string.Empty))
        {
            if (StatefulPodIdentity.Ordinal(set, pod) >= 0 && LabelSelectorEvaluator.Matches(set.Spec?.Selector, pod.Metadata?.Labels))
            {
                queue.Add(ObjectKey.Of(set));
            }
        }
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        var cached = sets.Get(ns, name);
        if (cached is null)
        {
            expectations.Forget(key);
            return ReconcileResult.Done;
        }

        var set = ObjectCopy.Clone(cached);
        var meta = set.Metadata!;
        if (LabelSelectorEvaluator.IsEmpty(set.Spec?.Selector))
        {
            context.Events.Record(set, "Warning", "SelectingAll", "This statefulset is selecting all pods. A non-empty selector is required.");
            return ReconcileResult.Done;
        }

        // Read before the pod cache: once satisfied, every pod this controller created is in the cache it reads next.
        var satisfied = expectations.Satisfied(key);
        var owned = await ControllerRefManager.ClaimAsync(
            context.Client.Resource<Pod>(),
            meta,
            ControllerRef.New(StatefulSet.KubeApiVersion, StatefulSet.KubeKind, meta),
            set.Spec?.Selector,
            pods.List(ns).Where(p => StatefulPodIdentity.Ordinal(set, p) >= 0),
            async ct =>
            {
                var fresh = await context.Client.Resource<StatefulSet>().GetAsync(ns, name, ct).ConfigureAwait(false);
                return fresh.Metadata?.Uid == meta.Uid && fresh.Metadata?.DeletionTimestamp is null;
            },
            cancellationToken).ConfigureAwait(false);

        var controlled = revisions.List(ns).Where(r => ControllerRef.IsControlledBy(r.Metadata, meta.Uid)).ToList();
        var (current, update, collisionCount, history) = await ResolveRevisionsAsync(set, controlled, cancellationToken).ConfigureAwait(false);
        var now = context.Time.GetUtcNow();
        var plan = StatefulSetPlanner.Plan(set, ControllerRevisionHistory.Template(current) ?? set.Spec?.Template, current.Metadata!.Name!, set.Spec?.Template, update.Metadata!.Name!, owned, now);

        string? failure = null;
        if (satisfied)
        {
            failure = await ApplyAsync(key, set, plan.Actions, cancellationToken).ConfigureAwait(false);
            if (failure is null)
            {
                await RetainClaimsAsync(set, owned, cancellationToken).ConfigureAwait(false);
            }
        }

        var status = plan.Status;
        status.CollisionCount = collisionCount;
        if (!ObjectCopy.SemanticEquals(set.Status ?? new StatefulSetStatus(), status))
        {
            set.Status = status;
            await context.Client.Resource<StatefulSet>().UpdateStatusAsync(set, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var inUse = owned.Select(StatefulPodIdentity.Revision).OfType<string>().Append(status.CurrentRevision ?? string.Empty).Append(status.UpdateRevision ?? string.Empty).ToHashSet(StringComparer.Ordinal);
        foreach (var revision in ControllerRevisionHistory.Excess(history, inUse, set.Spec?.RevisionHistoryLimit ?? 10))
        {
            await revisionWriter.DeleteAsync(revision, cancellationToken).ConfigureAwait(false);
        }

        if (failure is not null)
        {
            throw new InvalidOperationException(failure);
        }

        return plan.RequeueAfter is { } after ? ReconcileResult.RequeueIn(after) : ReconcileResult.Done;
    }

    /// <summary>
    /// The current revision (status.currentRevision, or the update revision when there is none yet) and the update
    /// revision of the set's template: an existing revision with the same template (renumbered to be the newest if
    /// it is not), else a new one.
    /// </summary>
    private async Task<(ControllerRevision Current, ControllerRevision Update, int? CollisionCount, List<ControllerRevision> History)> ResolveRevisionsAsync(
        StatefulSet set, List<ControllerRevision> history, CancellationToken cancellationToken)
    {
        var sorted = ControllerRevisionHistory.Sorted(history);
        var collisionCount = set.Status?.CollisionCount;
        var data = ControllerRevisionHistory.TemplatePatch(set.Spec?.Template);
        var equal = sorted.Where(r => ControllerRevisionHistory.Matches(r, data)).ToList();
        var next = ControllerRevisionHistory.NextRevision(sorted);
        ControllerRevision update;
        if (equal.Count > 0 && ReferenceEquals(equal[^1], sorted[^1]))
        {
            update = equal[^1];
        }
        else if (equal.Count > 0)
        {
            update = await revisionWriter.RenumberAsync(equal[^1], next, cancellationToken).ConfigureAwait(false);
            sorted[sorted.IndexOf(equal[^1])] = update;
        }
        else
        {
            var meta = set.Metadata!;
            var hash = ControllerRevisionHistory.Hash(data, collisionCount);
            var revision = ControllerRevisionHistory.New(meta, StatefulSet.KubeApiVersion, StatefulSet.KubeKind, set.Spec?.Template, data, hash, next);
            (update, collisionCount) = await revisionWriter.CreateAsync(
                revision,
                count =>
                {
                    var h = ControllerRevisionHistory.Hash(data, count);
                    return (ControllerRevisionHistory.Name(meta.Name!, h), h);
                },
                collisionCount,
                cancellationToken).ConfigureAwait(false);
            sorted.Add(update);
        }

        var current = sorted.FirstOrDefault(r => r.Metadata?.Name == set.Status?.CurrentRevision) ?? update;
        return (current, update, collisionCount, sorted);
    }

    /// <summary>Carries out the planned pod changes in order; returns the first error, after which nothing more is done.</summary>
    private async Task<string?> ApplyAsync(string key, StatefulSet set, IReadOnlyList<StatefulSetAction> actions, CancellationToken cancellationToken)
    {
        var creations = actions.Count(a => a.Kind == StatefulSetActionKind.Create);
        if (creations > 0)
        {
            expectations.ExpectCreations(key, creations);
        }

        var podClient = context.Client.Resource<Pod>();
        var setName = set.Metadata!.Name;
        foreach (var action in actions)
        {
            var pod = action.Pod;
            var podName = pod.Metadata!.Name;
            switch (action.Kind)
            {
                case StatefulSetActionKind.Create:
                    if (await CreateClaimsAsync(set, action, cancellationToken).ConfigureAwait(false) is { } claimError)
                    {
                        expectations.LowerCreations(key, creations);
                        return claimError;
                    }

                    try
                    {
                        await podClient.CreateAsync(pod, cancellationToken: cancellationToken).ConfigureAwait(false);
                        context.Events.Record(set, "Normal", "SuccessfulCreate", $"create Pod {podName} in StatefulSet {setName} successful");
                    }
                    catch (StatusException e) when (e.IsAlreadyExists())
                    {
                        // A pod of that name exists already (the cache lags): no creation of ours is coming to observe.
                        expectations.LowerCreations(key, 1);
                    }
                    catch (StatusException e)
                    {
                        expectations.LowerCreations(key, creations);
                        context.Events.Record(set, "Warning", "FailedCreate", $"create Pod {podName} in StatefulSet {setName} failed error: {e.Message}");
                        return e.Message;
                    }

                    creations--;
                    break;
                case StatefulSetActionKind.Recreate:
                case StatefulSetActionKind.Delete:
                    if (action.Kind == StatefulSetActionKind.Recreate)
                    {
                        context.Events.Record(
                            set,
                            "Warning",
                            pod.Status?.Phase == "Failed" ? "RecreatingFailedPod" : "RecreatingTerminatedPod",
                            $"StatefulSet {set.Metadata.Namespace}/{setName} is recreating {(pod.Status?.Phase == "Failed" ? "failed" : "terminated")} Pod {podName}");
                    }
                    else if (!StatefulPodIdentity.InRange(set, action.Ordinal))
                    {
                        // A condemned pod's claims learn whether they go with it before it goes.
                        await RetainClaimsAsync(set, [pod], cancellationToken).ConfigureAwait(false);
                    }

                    try
                    {
                        await podClient.DeleteAsync(pod.Metadata.Namespace, podName!, new DeleteOptions { Preconditions = new Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken).ConfigureAwait(false);
                        context.Events.Record(set, "Normal", "SuccessfulDelete", $"delete Pod {podName} in StatefulSet {setName} successful");
                    }
                    catch (StatusException e) when (e.IsNotFound() || e.IsConflict())
                    {
                    }
                    catch (StatusException e)
                    {
                        context.Events.Record(set, "Warning", "FailedDelete", $"delete Pod {podName} in StatefulSet {setName} failed error: {e.Message}");
                        return e.Message;
                    }

                    break;
            }
        }

        return null;
    }

    private async Task<string?> CreateClaimsAsync(StatefulSet set, StatefulSetAction action, CancellationToken cancellationToken)
    {
        var client = context.Client.Resource<PersistentVolumeClaim>();
        foreach (var claim in StatefulPodIdentity.Claims(set, action.Ordinal))
        {
            var claimName = claim.Metadata!.Name!;
            var existing = claims.Get(claim.Metadata.Namespace, claimName);
            if (existing?.Metadata?.DeletionTimestamp is not null)
            {
                return $"pvc {claimName} is being deleted";
            }

            if (existing is not null)
            {
                continue;
            }

            try
            {
                await client.CreateAsync(claim, cancellationToken: cancellationToken).ConfigureAwait(false);
                context.Events.Record(set, "Normal", "SuccessfulCreate", $"create Claim {claimName} Pod {action.Pod.Metadata?.Name} in StatefulSet {set.Metadata?.Name} success");
            }
            catch (StatusException e) when (e.IsAlreadyExists())
            {
            }
            catch (StatusException e)
            {
                context.Events.Record(set, "Warning", "FailedCreate", $"create Claim {claimName} for Pod {action.Pod.Metadata?.Name} in StatefulSet {set.Metadata?.Name} failed error: {e.Message}");
                return e.Message;
            }
        }

        return null;
    }

    /// <summary>Brings the owner references of the pods' claims in line with the retention policy.</summary>
    private async Task RetainClaimsAsync(StatefulSet set, IEnumerable<Pod> members, CancellationToken cancellationToken)
    {
        if (set.Spec?.VolumeClaimTemplates is not { Count: > 0 } templates)
        {
            return;
        }

        var client = context.Client.Resource<PersistentVolumeClaim>();
        foreach (var pod in members)
        {
            var ordinal = StatefulPodIdentity.Ordinal(set, pod);
            if (ordinal < 0 || pod.Metadata?.DeletionTimestamp is not null)
            {
                continue;
            }

            foreach (var template in templates)
            {
                var claim = claims.Get(set.Metadata?.Namespace, StatefulPodIdentity.ClaimName(set, template.Metadata?.Name ?? string.Empty, ordinal));
                if (claim is null || StatefulSetClaimRetention.DesiredOwners(set, claim, pod, !StatefulPodIdentity.InRange(set, ordinal)) is not { } owners)
                {
                    continue;
                }

                try
                {
                    await client.PatchAsync(claim.Metadata!.Namespace, claim.Metadata.Name!, PatchType.Json, MetadataPatch.OwnerReferences(claim.Metadata, owners), cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (StatusException e) when (e.IsNotFound() || e.IsConflict() || e.IsInvalid())
                {
                    LogClaimOwnersStale(logger, claim.Metadata!.Namespace, claim.Metadata.Name);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "PersistentVolumeClaim {Namespace}/{Name} changed meanwhile; its owners are set on the next sync")]
    private static partial void LogClaimOwnersStale(ILogger logger, string? @namespace, string? name);
}
