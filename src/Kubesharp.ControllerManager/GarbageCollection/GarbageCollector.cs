using System.Threading.Channels;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Discovery;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Objects;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.GarbageCollection;

/// <summary>
/// Deletes objects whose owners are gone, holds foreground-deleted owners until their blocking dependents are
/// gone, and strips owner references from the dependents of orphan-deleted owners. Every resource discovery
/// names that can be listed, watched and deleted, built-in or custom, is watched through a metadata-only
/// informer (<see cref="ResourceMonitor"/>) into one owner/dependent graph keyed by uid; the work queue holds
/// object uids. Discovery is read again periodically and whenever a CRD or APIService changes, so resources
/// come and go without a restart.
/// </summary>
internal sealed partial class GarbageCollector : IController, IReconciler
{
    /// <summary>Resources whose objects never own or depend on anything and change constantly.</summary>
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal) { "events", "events.events.k8s.io" };

    /// <summary>Resources whose objects change what discovery serves.</summary>
    private static readonly HashSet<string> DiscoveryChanging = new(StringComparer.Ordinal)
    {
        "customresourcedefinitions.apiextensions.k8s.io",
        "apiservices.apiregistration.k8s.io",
    };

    private static readonly TimeSpan DiscoveryResyncPeriod = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan SettleQuiet = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan SettleLimit = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a discovery pass waits for new caches: a resource that cannot be listed must not stop collection of the others.</summary>
    private static readonly TimeSpan SyncLimit = TimeSpan.FromSeconds(30);

    private readonly ControllerContext context;
    private readonly DiscoveryClient discovery;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly Channel<bool> resyncRequests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock gate = new();
    private readonly Dictionary<string, GraphNode> nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> dependents = new(StringComparer.Ordinal);

    /// <summary>Dependents with an owner of a kind no monitored resource has; looked at again after each discovery.</summary>
    private readonly HashSet<string> unresolved = new(StringComparer.Ordinal);

    /// <summary>How long the uid of an owner deleted with orphaning is remembered; see <see cref="orphanedOwners"/>.</summary>
    private static readonly TimeSpan OrphanedOwnerMemory = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Owners whose orphan finalizer this collector removed, with when. The monitors of other resources can lag the
    /// owner's: a dependent created just before the deletion may reach the graph only after the owner is gone, and
    /// must then be orphaned, not collected.
    /// </summary>
    private readonly Dictionary<string, DateTimeOffset> orphanedOwners = new(StringComparer.Ordinal);

    /// <summary>
    /// Held back while new monitors fill their caches, so no decision (an orphaning, say) is taken on a graph that
    /// does not yet hold the dependents of a new resource.
    /// </summary>
    private Task paused = Task.CompletedTask;

    /// <summary>Monitors by group-resource; replaced and read under <see cref="gate"/>.</summary>
    private Dictionary<string, ResourceMonitor> monitors = new(StringComparer.Ordinal);

    /// <summary>Monitors by group and kind, for owner references of any version of a group.</summary>
    private Dictionary<(string Group, string Kind), ResourceMonitor> monitorsByKind = [];

    public GarbageCollector(ControllerContext context)
    {
        this.context = context;
        discovery = new DiscoveryClient(context.Client);
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<GarbageCollector>();
    }

    public string Name => "garbagecollector";

    /// <summary>The collector's informers follow discovery; none come from the shared factory.</summary>
    public void Register()
    {
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Task? workers = null;
        var failures = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var started = await SyncMonitorsAsync(cancellationToken).ConfigureAwait(false);
                failures = started is null ? failures + 1 : 0;
                if (workers is null && started is not null)
                {
                    workers = Task.Run(() => new ReconcileWorker(Name, queue, this, logger).RunAsync(context.Options.GarbageCollectorWorkers, cancellationToken), CancellationToken.None);
                }

                // A failed discovery is tried again soon, backing off up to the resync period.
                var wait = failures == 0 ? DiscoveryResyncPeriod : TimeSpan.FromSeconds(Math.Min(DiscoveryResyncPeriod.TotalSeconds, 1 << Math.Min(failures, 5)));
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var period = Task.Delay(wait, context.Time, wake.Token);
                var requested = resyncRequests.Reader.WaitToReadAsync(wake.Token).AsTask();
                var woken = await Task.WhenAny(requested, period).ConfigureAwait(false);
                await wake.CancelAsync().ConfigureAwait(false);
                if (woken == requested)
                {
                    await SettleAsync(cancellationToken).ConfigureAwait(false);
                }

                while (resyncRequests.Reader.TryRead(out _))
                {
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            List<ResourceMonitor> all;
            lock (gate)
            {
                all = [.. monitors.Values];
            }

            foreach (var monitor in all)
            {
                await monitor.StopAsync().ConfigureAwait(false);
            }

            if (workers is not null)
            {
                await workers.ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Waits until the changes that asked for a new discovery pause (<see cref="SettleQuiet"/> without one, at most
    /// <see cref="SettleLimit"/>): CRDs and APIServices change in bursts (a manifest of CRDs, then their Established
    /// status and the APIServices of their groups), and one discovery after the burst sees what each would have.
    /// </summary>
    private async Task SettleAsync(CancellationToken cancellationToken)
    {
        var started = context.Time.GetTimestamp();
        while (context.Time.GetElapsedTime(started) < SettleLimit)
        {
            cancellationToken.ThrowIfCancellationRequested();
            while (resyncRequests.Reader.TryRead(out _))
            {
            }

            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var pause = Task.Delay(SettleQuiet, context.Time, quiet.Token);
            var first = await Task.WhenAny(resyncRequests.Reader.WaitToReadAsync(quiet.Token).AsTask(), pause).ConfigureAwait(false);
            await quiet.CancelAsync().ConfigureAwait(false);
            if (first == pause)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Reads discovery and starts a monitor for each new resource that can be listed, watched and deleted, stops
    /// those of resources no longer served (a group-version that did not answer keeps its monitors). Returns the
    /// monitors started, or null when discovery could not be read.
    /// </summary>
    private async Task<IReadOnlyList<ResourceMonitor>?> SyncMonitorsAsync(CancellationToken cancellationToken)
    {
        DiscoveredResources found;
        try
        {
            found = await discovery.ServerPreferredResourcesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StatusException or HttpRequestException or System.Text.Json.JsonException)
        {
            LogDiscoveryFailed(logger, e.Message);
            return null;
        }

        var wanted = found.Resources
            .Where(r => !Ignored.Contains(r.GroupResource) && r.Verbs.Contains("list") && r.Verbs.Contains("watch") && r.Verbs.Contains("delete"))
            .GroupBy(r => r.GroupResource, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        Dictionary<string, ResourceMonitor> current;
        lock (gate)
        {
            current = monitors;
        }

        var next = new Dictionary<string, ResourceMonitor>(StringComparer.Ordinal);
        var stopped = new List<ResourceMonitor>();
        foreach (var (groupResource, monitor) in current)
        {
            if (wanted.TryGetValue(groupResource, out var resource) ? SameResource(resource, monitor.Resource) : found.FailedGroupVersions.Contains(monitor.Resource.ApiVersion))
            {
                next[groupResource] = monitor;
            }
            else
            {
                stopped.Add(monitor);
            }
        }

        var started = new List<ResourceMonitor>();
        foreach (var (groupResource, resource) in wanted)
        {
            if (!next.ContainsKey(groupResource))
            {
                var monitor = new ResourceMonitor(context, resource, cancellationToken);
                next[groupResource] = monitor;
                started.Add(monitor);
            }
        }

        foreach (var monitor in stopped)
        {
            LogMonitorStopped(logger, monitor.Resource.GroupResource, monitor.Resource.ApiVersion);
            foreach (var obj in await monitor.StopAsync().ConfigureAwait(false))
            {
                OnDelete(obj);
            }
        }

        List<string> retry;
        lock (gate)
        {
            monitors = next;
            monitorsByKind = [];
            foreach (var monitor in next.Values)
            {
                monitorsByKind.TryAdd((monitor.Resource.Group, monitor.Resource.Kind), monitor);
            }

            retry = [.. unresolved];
            unresolved.Clear();
        }

        var pause = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref paused, pause.Task);
        try
        {
            foreach (var monitor in started)
            {
                LogMonitorStarted(logger, monitor.Resource.GroupResource, monitor.Resource.ApiVersion);
                monitor.Start(OnUpsert, OnDelete);
            }

            await Task.WhenAll(started.Select(m => m.WaitForSyncAsync(cancellationToken))).WaitAsync(SyncLimit, context.Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogSyncTimedOut(logger, SyncLimit.TotalSeconds);
        }
        finally
        {
            pause.TrySetResult();
        }

        foreach (var uid in retry)
        {
            queue.Add(uid);
        }

        return started;
    }

    /// <summary>A resource served in another version or scope is watched afresh.</summary>
    private static bool SameResource(ApiResource a, ApiResource b) =>
        a.Version == b.Version && a.Kind == b.Kind && a.Namespaced == b.Namespaced;

    private void OnUpsert(ResourceMonitor monitor, PartialObjectMetadata obj)
    {
        if (DiscoveryChanging.Contains(monitor.Resource.GroupResource))
        {
            resyncRequests.Writer.TryWrite(true);
        }

        var meta = obj.Metadata;
        if (meta?.Uid is not { } uid || meta.Name is null)
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

            nodes[uid] = new GraphNode(monitor, meta.Namespace, meta.Name, references.Select(r => r.Uid!).ToList(), GarbageCollectionRules.IsDeletingDependents(meta));
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

    private void OnDelete(PartialObjectMetadata obj)
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
                if (DiscoveryChanging.Contains(node.Monitor.Resource.GroupResource))
                {
                    resyncRequests.Writer.TryWrite(true);
                }

                foreach (var owner in node.Owners)
                {
                    RemoveDependent(owner, uid);
                    affected.Add(owner);
                }
            }

            unresolved.Remove(uid);
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
        await Volatile.Read(ref paused).WaitAsync(cancellationToken).ConfigureAwait(false);
        GraphNode? node;
        lock (gate)
        {
            node = nodes.GetValueOrDefault(key);
        }

        if (node is null || node.Monitor.GetCached(node.Namespace, node.Name) is not { } meta || meta.Uid != key)
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
        foreach (var reference in references)
        {
            owners.Add((reference, await OwnerStateAsync(key, node, reference, cancellationToken).ConfigureAwait(false)));
        }

        var (hasDependents, dependentDeleting) = DependentsOf(key);
        var decision = GarbageCollectionRules.ForDependent(meta, owners, hasDependents, dependentDeleting);
        if (decision.IsNone)
        {
            return ReconcileResult.Done;
        }

        if (decision.DeletePolicy is { } policy)
        {
            LogDeleting(logger, node.Monitor.Resource.GroupResource, meta.Namespace, meta.Name, policy);
            await node.Monitor.DeleteAsync(meta.Namespace, meta.Name!, new DeleteOptions { Preconditions = new Preconditions { Uid = meta.Uid }, PropagationPolicy = policy }, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        await node.Monitor.PatchAsync(meta.Namespace, meta.Name!, MetadataPatch.OwnerReferences(meta, GarbageCollectionRules.Apply(references, decision)), cancellationToken).ConfigureAwait(false);
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
            await node.Monitor.PatchAsync(meta.Namespace, meta.Name!, MetadataPatch.Finalizers(meta, meta.Finalizers!.Where(f => f != GarbageCollectionRules.ForegroundFinalizer).ToList()), cancellationToken).ConfigureAwait(false);
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
            await dependent.Monitor.PatchAsync(dependentMeta.Namespace, dependentMeta.Name!, MetadataPatch.OwnerReferences(dependentMeta, remaining), cancellationToken).ConfigureAwait(false);
        }

        RememberOrphaned(meta.Uid!);
        await node.Monitor.PatchAsync(meta.Namespace, meta.Name!, MetadataPatch.Finalizers(meta, meta.Finalizers!.Where(f => f != GarbageCollectionRules.OrphanFinalizer).ToList()), cancellationToken).ConfigureAwait(false);
    }

    private void RememberOrphaned(string ownerUid)
    {
        var now = context.Time.GetUtcNow();
        lock (gate)
        {
            foreach (var (uid, at) in orphanedOwners.ToList())
            {
                if (now - at > OrphanedOwnerMemory)
                {
                    orphanedOwners.Remove(uid);
                }
            }

            orphanedOwners[ownerUid] = now;
        }
    }

    private bool WasOrphaned(string ownerUid)
    {
        lock (gate)
        {
            return orphanedOwners.ContainsKey(ownerUid);
        }
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
            if (dependent.Monitor.GetCached(dependent.Namespace, dependent.Name) is { } meta && meta.Uid == uid)
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

    /// <summary>
    /// Looks an owner up in its resource's cache and, unless the cache shows it with the referenced uid, asks
    /// the server: an owner is only ever called gone after a live read.
    /// </summary>
    private async Task<OwnerState> OwnerStateAsync(string dependentUid, GraphNode dependent, OwnerReference reference, CancellationToken cancellationToken)
    {
        if (reference.Name is null || reference.ApiVersion is null || reference.Kind is null)
        {
            return OwnerState.Solid;
        }

        var slash = reference.ApiVersion.IndexOf('/', StringComparison.Ordinal);
        var group = slash < 0 ? string.Empty : reference.ApiVersion[..slash];
        ResourceMonitor? owners;
        lock (gate)
        {
            owners = monitorsByKind.GetValueOrDefault((group, reference.Kind));
            if (owners is null)
            {
                // A kind discovery does not (yet) name cannot be checked: the dependent stays and is looked at again
                // after the next discovery, which a new CRD brings about.
                unresolved.Add(dependentUid);
                return OwnerState.Solid;
            }
        }

        string? ns = null;
        if (owners.Resource.Namespaced)
        {
            if (!dependent.Monitor.Resource.Namespaced)
            {
                return OwnerState.Dangling;
            }

            ns = dependent.Namespace;
        }

        var owner = owners.GetCached(ns, reference.Name);
        if (owner?.Uid != reference.Uid)
        {
            owner = await owners.GetAsync(ns, reference.Name, cancellationToken).ConfigureAwait(false);
        }

        if (owner is null || owner.Uid != reference.Uid)
        {
            return reference.Uid is not null && WasOrphaned(reference.Uid) ? OwnerState.Orphaned : OwnerState.Dangling;
        }

        return GarbageCollectionRules.IsDeletingDependents(owner) ? OwnerState.WaitingForDependentsDeletion : OwnerState.Solid;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Garbage collecting {Resource} {Namespace}/{Name} (propagation {Policy})")]
    private static partial void LogDeleting(ILogger logger, string resource, string? @namespace, string? name, string policy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Garbage collector discovery failed: {Reason}; the resources watched so far stay watched")]
    private static partial void LogDiscoveryFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Garbage collector caches not filled after {Seconds} s; collecting with what is known")]
    private static partial void LogSyncTimedOut(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Garbage collector watches {Resource} ({ApiVersion})")]
    private static partial void LogMonitorStarted(ILogger logger, string resource, string apiVersion);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Garbage collector stops watching {Resource} ({ApiVersion})")]
    private static partial void LogMonitorStopped(ILogger logger, string resource, string apiVersion);

    private sealed record GraphNode(ResourceMonitor Monitor, string? Namespace, string Name, List<string> Owners, bool DeletingDependents);
}
