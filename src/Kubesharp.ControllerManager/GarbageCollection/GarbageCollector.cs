using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Resources;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.GarbageCollection;

/// <summary>
/// Deletes objects whose owners are gone, holds foreground-deleted owners until their blocking dependents are
/// gone, and strips owner references from the dependents of orphan-deleted owners. Watches every resource and
/// keeps the owner/dependent graph by uid; the work queue holds object uids.
/// </summary>
internal sealed partial class GarbageCollector : IController, IReconciler
{
    /// <summary>Resources whose objects never own or depend on anything and change constantly.</summary>
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal) { "events", "events.events.k8s.io" };

    /// <summary>Owners of kinds the collector does not watch (custom resources) are looked at again this often.</summary>
    private static readonly TimeSpan UnwatchedOwnerRecheck = TimeSpan.FromSeconds(2);

    private readonly ControllerContext context;
    private readonly ResourceAccessCatalog catalog;
    private readonly DiscoveredOwners discovered;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private readonly Lock gate = new();
    private readonly Dictionary<string, GraphNode> nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> dependents = new(StringComparer.Ordinal);

    public GarbageCollector(ControllerContext context, ResourceAccessCatalog catalog)
    {
        this.context = context;
        this.catalog = catalog;
        discovered = new DiscoveredOwners(context.Client, context.Time);
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<GarbageCollector>();
    }

    public string Name => "garbagecollector";

    public void Register()
    {
        foreach (var access in catalog.All)
        {
            var verbs = access.Resource.Verbs;
            if (Ignored.Contains(access.Resource.GroupResource) || !verbs.Contains("watch") || !verbs.Contains("delete") || !verbs.Contains("patch"))
            {
                continue;
            }

            syncs.Add(access.Watch(context.Informers, obj => OnUpsert(access, obj), obj => OnDelete(obj)));
        }
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // A resource that cannot be listed must not stop collection of the others; owners are confirmed live anyway.
        await syncs.WaitAsync(cancellationToken, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(context.Options.GarbageCollectorWorkers, cancellationToken).ConfigureAwait(false);
    }

    private void OnUpsert(ResourceAccess access, IKubernetesObject obj)
    {
        var meta = obj.Metadata;
        if (meta?.Uid is not { } uid)
        {
            return;
        }

        var references = meta.OwnerReferences?.Where(r => r.Uid is not null).ToList() ?? [];
        lock (gate)
        {
            if (nodes.TryGetValue(uid, out var previous))
            {
                foreach (var owner in previous.Owners)
                {
                    RemoveDependent(owner, uid);
                }
            }

            nodes[uid] = new GraphNode(access, meta.Namespace, meta.Name!, references.Select(r => r.Uid!).ToList(), GarbageCollectionRules.IsDeletingDependents(meta));
            foreach (var reference in references)
            {
                if (!dependents.TryGetValue(reference.Uid!, out var set))
                {
                    dependents[reference.Uid!] = set = new HashSet<string>(StringComparer.Ordinal);
                }

                set.Add(uid);
            }
        }

        if (references.Count > 0 || GarbageCollectionRules.IsDeletingDependents(meta) || GarbageCollectionRules.IsOrphaning(meta))
        {
            queue.Add(uid);
        }
    }

    private void OnDelete(IKubernetesObject obj)
    {
        if (obj.Metadata?.Uid is not { } uid)
        {
            return;
        }

        List<string> affected = [];
        lock (gate)
        {
            if (nodes.Remove(uid, out var node))
            {
                foreach (var owner in node.Owners)
                {
                    RemoveDependent(owner, uid);
                    affected.Add(owner);
                }
            }

            if (dependents.TryGetValue(uid, out var set))
            {
                affected.AddRange(set);
            }
        }

        // Dependents lost an owner; owners waiting in the foreground may have lost their last blocker.
        foreach (var key in affected)
        {
            queue.Add(key);
        }
    }

    private void RemoveDependent(string owner, string dependent)
    {
        if (dependents.TryGetValue(owner, out var set))
        {
            set.Remove(dependent);
            if (set.Count == 0)
            {
                dependents.Remove(owner);
            }
        }
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        GraphNode? node;
        lock (gate)
        {
            node = nodes.GetValueOrDefault(key);
        }

        if (node is null || node.Access.GetCached(node.Namespace, node.Name) is not { Metadata: { } meta } || meta.Uid != key)
        {
            return ReconcileResult.Done;
        }

        if (GarbageCollectionRules.IsOrphaning(meta))
        {
            await OrphanDependentsAsync(node, meta, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        if (GarbageCollectionRules.IsDeletingDependents(meta))
        {
            if (!await ProcessDeletingDependentsAsync(node, meta, cancellationToken).ConfigureAwait(false))
            {
                return ReconcileResult.Done;
            }
        }

        if (meta.OwnerReferences is not { Count: > 0 } references)
        {
            return ReconcileResult.Done;
        }

        var owners = new List<(OwnerReference, OwnerState)>();
        var unwatched = false;
        foreach (var reference in references)
        {
            var (state, watched) = await OwnerStateAsync(node, reference, cancellationToken).ConfigureAwait(false);
            owners.Add((reference, state));
            unwatched |= !watched;
        }

        var (hasDependents, dependentDeleting) = DependentsOf(key);
        var decision = GarbageCollectionRules.ForDependent(meta, owners, hasDependents, dependentDeleting);
        if (decision.IsNone)
        {
            // No informer reports the deletion of an owner of a custom kind: its dependents look again.
            return unwatched ? ReconcileResult.RequeueIn(UnwatchedOwnerRecheck) : ReconcileResult.Done;
        }

        if (decision.DeletePolicy is { } policy)
        {
            LogDeleting(logger, node.Access.Resource.GroupResource, meta.Namespace, meta.Name, policy);
            await node.Access.DeleteAsync(meta.Namespace, meta.Name!, new DeleteOptions { Preconditions = new Preconditions { Uid = meta.Uid }, PropagationPolicy = policy }, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        await PatchAsync(node, meta, MetadataPatch.OwnerReferences(meta, GarbageCollectionRules.Apply(references, decision)), cancellationToken).ConfigureAwait(false);
        return ReconcileResult.Done;
    }

    /// <summary>
    /// A foreground deletion: removes the finalizer once no dependent blocks it, otherwise deletes the blocking
    /// dependents. True when the object itself should still be checked against its own owners.
    /// </summary>
    private async Task<bool> ProcessDeletingDependentsAsync(GraphNode node, ObjectMeta meta, CancellationToken cancellationToken)
    {
        var blocking = new List<string>();
        foreach (var (uid, dependentMeta) in Dependents(meta.Uid!))
        {
            if (GarbageCollectionRules.Blocks(dependentMeta, meta.Uid!))
            {
                blocking.Add(uid);
            }
        }

        if (blocking.Count == 0)
        {
            await PatchAsync(node, meta, MetadataPatch.Finalizers(meta, meta.Finalizers!.Where(f => f != GarbageCollectionRules.ForegroundFinalizer).ToList()), cancellationToken).ConfigureAwait(false);
            return false;
        }

        foreach (var uid in blocking)
        {
            queue.Add(uid);
        }

        return true;
    }

    private async Task OrphanDependentsAsync(GraphNode node, ObjectMeta meta, CancellationToken cancellationToken)
    {
        foreach (var (uid, dependentMeta) in Dependents(meta.Uid!))
        {
            GraphNode? dependent;
            lock (gate)
            {
                dependent = nodes.GetValueOrDefault(uid);
            }

            if (dependent is null)
            {
                continue;
            }

            var remaining = (dependentMeta.OwnerReferences ?? []).Where(r => r.Uid != meta.Uid).ToList();
            await PatchAsync(dependent, dependentMeta, MetadataPatch.OwnerReferences(dependentMeta, remaining), cancellationToken).ConfigureAwait(false);
        }

        await PatchAsync(node, meta, MetadataPatch.Finalizers(meta, meta.Finalizers!.Where(f => f != GarbageCollectionRules.OrphanFinalizer).ToList()), cancellationToken).ConfigureAwait(false);
    }

    private List<(string Uid, ObjectMeta Meta)> Dependents(string ownerUid)
    {
        List<(string Uid, GraphNode Node)> found;
        lock (gate)
        {
            found = dependents.TryGetValue(ownerUid, out var set)
                ? set.Select(uid => (uid, nodes.GetValueOrDefault(uid))).Where(p => p.Item2 is not null).Select(p => (p.uid, p.Item2!)).ToList()
                : [];
        }

        var result = new List<(string, ObjectMeta)>();
        foreach (var (uid, dependent) in found)
        {
            if (dependent.Access.GetCached(dependent.Namespace, dependent.Name) is { Metadata: { } meta } && meta.Uid == uid)
            {
                result.Add((uid, meta));
            }
        }

        return result;
    }

    private (bool HasDependents, bool DependentDeletingDependents) DependentsOf(string uid)
    {
        lock (gate)
        {
            if (!dependents.TryGetValue(uid, out var set) || set.Count == 0)
            {
                return (false, false);
            }

            return (true, set.Any(d => nodes.TryGetValue(d, out var n) && n.DeletingDependents));
        }
    }

    /// <summary>Looks an owner up in the cache and, when the cache says it is gone, confirms with the server.</summary>
    private async Task<(OwnerState State, bool Watched)> OwnerStateAsync(GraphNode dependent, OwnerReference reference, CancellationToken cancellationToken)
    {
        var access = catalog.ForKind(reference.ApiVersion, reference.Kind);
        if (access is null && reference is { ApiVersion: { } apiVersion, Kind: { } kind, Name: { } ownerName })
        {
            var found = await discovered.GetAsync(apiVersion, kind, dependent.Access.Resource.Namespaced ? dependent.Namespace : null, ownerName, cancellationToken).ConfigureAwait(false);
            if (found is null)
            {
                // A kind no served resource has cannot be checked; keeping the dependent is the safe choice.
                return (OwnerState.Solid, true);
            }

            var state = found.Uid != reference.Uid ? OwnerState.Dangling
                : found.DeletingDependents ? OwnerState.WaitingForDependentsDeletion
                : OwnerState.Solid;
            return (state, false);
        }

        if (access is null || reference.Name is null)
        {
            // An unknown kind cannot be checked; keeping the dependent is the safe choice.
            return (OwnerState.Solid, true);
        }

        string? ns = null;
        if (access.Resource.Namespaced)
        {
            if (!dependent.Access.Resource.Namespaced)
            {
                return (OwnerState.Dangling, true);
            }

            ns = dependent.Namespace;
        }

        var owner = access.GetCached(ns, reference.Name);
        if (owner?.Metadata?.Uid != reference.Uid)
        {
            owner = await access.GetAsync(ns, reference.Name, cancellationToken).ConfigureAwait(false);
        }

        if (owner?.Metadata is not { } meta || meta.Uid != reference.Uid)
        {
            return (OwnerState.Dangling, true);
        }

        return (GarbageCollectionRules.IsDeletingDependents(meta) ? OwnerState.WaitingForDependentsDeletion : OwnerState.Solid, true);
    }

    private static async Task PatchAsync(GraphNode node, ObjectMeta meta, string patch, CancellationToken cancellationToken)
    {
        try
        {
            await node.Access.PatchAsync(meta.Namespace, meta.Name!, PatchType.Json, patch, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Garbage collecting {Resource} {Namespace}/{Name} (propagation {Policy})")]
    private static partial void LogDeleting(ILogger logger, string resource, string? @namespace, string? name, string policy);

    private sealed record GraphNode(ResourceAccess Access, string? Namespace, string Name, List<string> Owners, bool DeletingDependents);
}
