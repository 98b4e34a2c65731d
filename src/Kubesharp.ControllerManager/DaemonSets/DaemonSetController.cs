using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.ControllerRevisions;
using Kubesharp.ControllerManager.Deployments;
using Kubesharp.ControllerManager.Expectations;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;
using Kubesharp.ControllerManager.Pods;
using Kubesharp.ControllerManager.ReplicaSets;
using Kubesharp.ControllerManager.Selection;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.DaemonSets;

/// <summary>
/// Runs DaemonSets: a pod on every eligible node (pinned by node affinity; the scheduler binds it), rolling
/// updates through ControllerRevisions, and the DaemonSet's status. Node changes re-sync every DaemonSet.
/// </summary>
internal sealed partial class DaemonSetController : IController, IReconciler
{
    private static readonly TimeSpan FailedPodBackoffStart = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan FailedPodBackoffMax = TimeSpan.FromMinutes(15);

    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly ControllerExpectations expectations;
    private readonly ControllerRevisionWriter revisionWriter;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private readonly Dictionary<string, (DateTimeOffset Until, TimeSpan Delay)> failedPodBackoff = new(StringComparer.Ordinal);
    private readonly Lock backoffGate = new();
    private Lister<DaemonSet> daemonSets = null!;
    private Lister<Pod> pods = null!;
    private Lister<Node> nodes = null!;
    private Lister<ControllerRevision> revisions = null!;

    public DaemonSetController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        expectations = new ControllerExpectations(context.Time);
        revisionWriter = new ControllerRevisionWriter(context.Client);
        logger = context.LoggerFactory.CreateLogger<DaemonSetController>();
    }

    public string Name => "daemonset";

    public void Register()
    {
        var dsInformer = context.Informers.Informer<DaemonSet>();
        var podInformer = context.Informers.Informer<Pod>();
        var nodeInformer = context.Informers.Informer<Node>();
        var revisionInformer = context.Informers.Informer<ControllerRevision>();
        daemonSets = dsInformer.Lister;
        pods = podInformer.Lister;
        nodes = nodeInformer.Lister;
        revisions = revisionInformer.Lister;
        dsInformer.AddEventHandler(
            ds => queue.Add(ObjectKey.Of(ds)),
            (_, ds) => queue.Add(ObjectKey.Of(ds)),
            ds =>
            {
                expectations.Forget(ObjectKey.Of(ds));
                queue.Add(ObjectKey.Of(ds));
            });
        podInformer.AddEventHandler(new OwnedPodEventHandler(DaemonSet.KubeKind, queue, expectations, EnqueueSelecting));
        nodeInformer.AddEventHandler(
            _ => EnqueueAll(),
            (old, node) =>
            {
                if (PlacementInputsChanged(old, node))
                {
                    EnqueueAll();
                }
            },
            _ => EnqueueAll());
        revisionInformer.AddEventHandler(
            r => EnqueueOwner(r.Metadata),
            (_, r) => EnqueueOwner(r.Metadata),
            r => EnqueueOwner(r.Metadata));
        syncs.Add(dsInformer.WaitForSyncAsync);
        syncs.Add(podInformer.WaitForSyncAsync);
        syncs.Add(nodeInformer.WaitForSyncAsync);
        syncs.Add(revisionInformer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(context.Options.DaemonSetWorkers, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What a node change can change for a DaemonSet: labels, taints, unschedulable and readiness.</summary>
    private static bool PlacementInputsChanged(Node old, Node node) =>
        !ObjectCopy.SemanticEquals(new ObjectMeta { Labels = old.Metadata?.Labels }, new ObjectMeta { Labels = node.Metadata?.Labels }) ||
        !ObjectCopy.SemanticEquals(old.Spec ?? new NodeSpec(), node.Spec ?? new NodeSpec()) ||
        Ready(old) != Ready(node);

    private static string? Ready(Node node) => node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status;

    private static string? Owner(ObjectMeta? meta) => OwnedPodEventHandler.Owner(meta, DaemonSet.KubeKind);

    private void EnqueueOwner(ObjectMeta? meta)
    {
        if (Owner(meta) is { } owner)
        {
            queue.Add(owner);
        }
    }

    private void EnqueueAll()
    {
        foreach (var ds in daemonSets.List())
        {
            queue.Add(ObjectKey.Of(ds));
        }
    }

    private void EnqueueSelecting(Pod pod)
    {
        foreach (var ds in daemonSets.List(pod.Metadata?.Namespace ?? string.Empty))
        {
            if (LabelSelectorEvaluator.Matches(ds.Spec?.Selector, pod.Metadata?.Labels))
            {
                queue.Add(ObjectKey.Of(ds));
            }
        }
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        var cached = daemonSets.Get(ns, name);
        if (cached is null)
        {
            expectations.Forget(key);
            return ReconcileResult.Done;
        }

        var ds = ObjectCopy.Clone(cached);
        var meta = ds.Metadata!;
        if (LabelSelectorEvaluator.IsEmpty(ds.Spec?.Selector))
        {
            context.Events.Record(ds, "Warning", "SelectingAll", "This daemon set is selecting all pods. A non-empty selector is required.");
            return ReconcileResult.Done;
        }

        // Read before the pod cache: once satisfied, every pod this controller created is in the cache it reads next.
        var satisfied = expectations.Satisfied(key);
        var owned = await ControllerRefManager.ClaimAsync(
            context.Client.Resource<Pod>(),
            meta,
            ControllerRef.New(DaemonSet.KubeApiVersion, DaemonSet.KubeKind, meta),
            ds.Spec?.Selector,
            pods.List(ns),
            async ct =>
            {
                var fresh = await context.Client.Resource<DaemonSet>().GetAsync(ns, name, ct).ConfigureAwait(false);
                return fresh.Metadata?.Uid == meta.Uid && fresh.Metadata?.DeletionTimestamp is null;
            },
            cancellationToken).ConfigureAwait(false);
        var podsByNode = new Dictionary<string, List<Pod>>(StringComparer.Ordinal);
        foreach (var pod in owned)
        {
            if (DaemonPodTemplate.NodeOf(pod) is { } nodeName)
            {
                (podsByNode.TryGetValue(nodeName, out var list) ? list : podsByNode[nodeName] = []).Add(pod);
            }
        }

        var controlled = revisions.List(ns).Where(r => ControllerRef.IsControlledBy(r.Metadata, meta.Uid)).ToList();
        var (currentRevision, hash, collisionCount, history) = await ResolveRevisionAsync(ds, controlled, cancellationToken).ConfigureAwait(false);
        var nodeList = nodes.List();
        var now = context.Time.GetUtcNow();
        var plan = DaemonSetPlanner.Plan(ds, nodeList, podsByNode, hash, now);
        var requeue = plan.RequeueAfter;
        string? failure = null;
        if (meta.DeletionTimestamp is null && satisfied)
        {
            var delete = plan.PodsToDelete.ToList();
            foreach (var (nodeName, pod) in plan.FailedPods)
            {
                if (FailedPodBackoff(key + "/" + nodeName, now) is { } wait)
                {
                    requeue = requeue is null || wait < requeue ? wait : requeue;
                    continue;
                }

                context.Events.Record(ds, "Warning", "FailedDaemonPod", $"Found failed daemon pod {pod.Metadata?.Namespace}/{pod.Metadata?.Name} on node {nodeName}, will try to kill it");
                delete.Add(pod);
            }

            // Unbound pods pinned to nodes that are gone will never run.
            var existing = nodeList.Select(n => n.Metadata?.Name).OfType<string>().ToHashSet(StringComparer.Ordinal);
            delete.AddRange(podsByNode.Where(p => !existing.Contains(p.Key)).SelectMany(p => p.Value)
                .Where(p => string.IsNullOrEmpty(p.Spec?.NodeName) && p.Metadata?.DeletionTimestamp is null));
            failure = await SyncNodesAsync(key, ds, delete, plan.NodesToCreate, hash, cancellationToken).ConfigureAwait(false);
        }

        var status = plan.Status;
        status.CollisionCount = collisionCount;
        if (!ObjectCopy.SemanticEquals(ds.Status ?? new DaemonSetStatus(), status))
        {
            ds.Status = status;
            await context.Client.Resource<DaemonSet>().UpdateStatusAsync(ds, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var liveHashes = owned.Select(p => p.Metadata?.Labels?.GetValueOrDefault(ControllerRevisionHistory.HashLabel)).OfType<string>().Append(hash).ToHashSet(StringComparer.Ordinal);
        var inUse = history.Where(r => r.Metadata?.Labels?.GetValueOrDefault(ControllerRevisionHistory.HashLabel) is { } h && liveHashes.Contains(h))
            .Select(r => r.Metadata!.Name!).Append(currentRevision.Metadata!.Name!).ToHashSet(StringComparer.Ordinal);
        foreach (var revision in ControllerRevisionHistory.Excess(history, inUse, ds.Spec?.RevisionHistoryLimit ?? 10))
        {
            await revisionWriter.DeleteAsync(revision, cancellationToken).ConfigureAwait(false);
        }

        if (failure is not null)
        {
            throw new InvalidOperationException(failure);
        }

        return requeue is { } after ? ReconcileResult.RequeueIn(after) : ReconcileResult.Done;
    }

    /// <summary>
    /// The revision of the DaemonSet's template: an existing one (duplicates deleted, renumbered to be the newest
    /// when it is not) or a new one named with the pod-template hash. Returns it with its hash label.
    /// </summary>
    private async Task<(ControllerRevision Current, string Hash, int? CollisionCount, List<ControllerRevision> History)> ResolveRevisionAsync(
        DaemonSet ds, List<ControllerRevision> controlled, CancellationToken cancellationToken)
    {
        var sorted = ControllerRevisionHistory.Sorted(controlled);
        var collisionCount = ds.Status?.CollisionCount;
        var data = ControllerRevisionHistory.TemplatePatch(ds.Spec?.Template);
        var equal = sorted.Where(r => ControllerRevisionHistory.Matches(r, data)).ToList();
        var next = ControllerRevisionHistory.NextRevision(sorted);
        ControllerRevision current;
        if (equal.Count == 0)
        {
            var meta = ds.Metadata!;
            var template = ds.Spec?.Template ?? new PodTemplateSpec();
            var hash = PodTemplateHash.Compute(template, collisionCount);
            var revision = ControllerRevisionHistory.New(meta, DaemonSet.KubeApiVersion, DaemonSet.KubeKind, template, data, hash, next);
            (current, collisionCount) = await revisionWriter.CreateAsync(
                revision,
                count =>
                {
                    var h = PodTemplateHash.Compute(template, count);
                    return (ControllerRevisionHistory.Name(meta.Name!, h), h);
                },
                collisionCount,
                cancellationToken).ConfigureAwait(false);
            sorted.Add(current);
        }
        else
        {
            current = equal[^1];
            foreach (var duplicate in equal.Take(equal.Count - 1))
            {
                await revisionWriter.DeleteAsync(duplicate, cancellationToken).ConfigureAwait(false);
                sorted.Remove(duplicate);
            }

            if (!ReferenceEquals(current, sorted[^1]))
            {
                var renumbered = await revisionWriter.RenumberAsync(current, next, cancellationToken).ConfigureAwait(false);
                sorted[sorted.IndexOf(current)] = renumbered;
                current = renumbered;
            }
        }

        var currentHash = current.Metadata?.Labels?.GetValueOrDefault(ControllerRevisionHistory.HashLabel)
            ?? PodTemplateHash.Compute(ds.Spec?.Template ?? new PodTemplateSpec(), collisionCount);
        return (current, currentHash, collisionCount, sorted);
    }

    /// <summary>Null when the node's failed pods may be deleted now (starting the next backoff); else how long to wait.</summary>
    private TimeSpan? FailedPodBackoff(string key, DateTimeOffset now)
    {
        lock (backoffGate)
        {
            if (failedPodBackoff.TryGetValue(key, out var entry) && entry.Until > now)
            {
                return entry.Until - now;
            }

            var delay = entry.Delay == TimeSpan.Zero ? FailedPodBackoffStart : TimeSpan.FromTicks(Math.Min(entry.Delay.Ticks * 2, FailedPodBackoffMax.Ticks));
            failedPodBackoff[key] = (now + delay, delay);
            return null;
        }
    }

    private async Task<string?> SyncNodesAsync(string key, DaemonSet ds, List<Pod> delete, IReadOnlyList<string> createOn, string hash, CancellationToken cancellationToken)
    {
        var client = context.Client.Resource<Pod>();
        if (delete.Count > 0)
        {
            var error = await ControlledPodDeletion.DeleteAsync(context, expectations, key, ds, delete, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
        }

        if (createOn.Count == 0)
        {
            return null;
        }

        // A deletion still in flight is not waited for: creating is what the nodes need next.
        expectations.ExpectCreations(key, createOn.Count);
        var index = 0;
        foreach (var batch in ReplicaSetScaling.SlowStartBatches(createOn.Count))
        {
            var nodesOfBatch = createOn.Skip(index).Take(batch).ToList();
            index += batch;
            var results = await Task.WhenAll(nodesOfBatch.Select(async nodeName =>
            {
                try
                {
                    var created = await client.CreateAsync(DaemonPodTemplate.NewPod(ds, hash, nodeName), cancellationToken: cancellationToken).ConfigureAwait(false);
                    context.Events.Record(ds, "Normal", "SuccessfulCreate", $"Created pod: {created.Metadata?.Name}");
                    return null;
                }
                catch (StatusException e)
                {
                    context.Events.Record(ds, "Warning", "FailedCreate", $"Error creating: {e.Message}");
                    LogCreateFailed(logger, ds.Metadata?.Namespace, ds.Metadata?.Name, nodeName, e.Message);
                    return e.Message;
                }
            })).ConfigureAwait(false);
            var failed = results.Count(r => r is not null);
            if (failed > 0)
            {
                expectations.LowerCreations(key, failed + (createOn.Count - index));
                return results.First(r => r is not null);
            }
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "DaemonSet {Namespace}/{Name}: creating a pod for node {Node} failed: {Error}")]
    private static partial void LogCreateFailed(ILogger logger, string? @namespace, string? name, string node, string error);
}
