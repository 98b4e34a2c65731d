using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.NodeIpam;

/// <summary>
/// Hands each Node a slice of the cluster CIDR as its <c>spec.podCIDR</c>/<c>podCIDRs</c> (the range allocator of
/// upstream's node IPAM controller): slices of nodes that already have one are taken first, so a restart rebuilds
/// the allocation from the nodes; a deleted node's slice is freed; when none is left the node gets the
/// CIDRNotAvailable event and waits until one is freed.
/// </summary>
internal sealed partial class NodeIpamController : IController, IReconciler
{
    /// <summary>How often a node that found the cluster CIDR full looks again (a freed slice wakes it sooner).</summary>
    private static readonly TimeSpan ExhaustedRetry = TimeSpan.FromSeconds(30);

    private readonly ControllerContext context;
    private readonly CidrSet cidrs;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();

    // What this controller knows each node holds (by name, with the node's UID), so a node whose assignment the
    // informer has not shown yet is patched with the same slice again instead of getting a second one.
    private readonly Dictionary<string, (string Uid, string Cidr)> assigned = new(StringComparer.Ordinal);
    private Lister<Node> nodes = null!;

    public NodeIpamController(ControllerContext context, CidrSet cidrs)
    {
        this.context = context;
        this.cidrs = cidrs;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<NodeIpamController>();
    }

    public string Name => "nodeipam";

    public void Register()
    {
        var informer = context.Informers.Informer<Node>();
        nodes = informer.Lister;
        informer.AddEventHandler(n => queue.Add(n.Metadata!.Name!), (_, n) => queue.Add(n.Metadata!.Name!), n => queue.Add(n.Metadata!.Name!));
        syncs.Add(informer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);

        // Before any allocation: the slices existing nodes hold are taken (this is how a restart rebuilds the set).
        foreach (var node in nodes.List())
        {
            if (node.Spec?.PodCIDR is { Length: > 0 } cidr)
            {
                Occupy(node, cidr);
            }
        }

        // One worker: the set is owned by it alone.
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(1, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var node = nodes.Get(null, key);
        var uid = node?.Metadata?.Uid ?? "";
        if (assigned.TryGetValue(key, out var held) && (node is null || held.Uid != uid))
        {
            // The node is gone (or was replaced by a new one of the same name): its slice is free again.
            assigned.Remove(key);
            cidrs.Release(held.Cidr);
            LogReleased(logger, key, held.Cidr);
            WakeWaitingNodes();
        }

        if (node is null || node.Metadata?.DeletionTimestamp is not null)
        {
            return ReconcileResult.Done;
        }

        if (node.Spec?.PodCIDR is { Length: > 0 } existing)
        {
            Occupy(node, existing);
            return ReconcileResult.Done;
        }

        if (assigned.TryGetValue(key, out held))
        {
            // Patched before, but the informer has not caught up (or the patch was lost): write the same slice again.
            await PatchAsync(key, held.Cidr, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        if (cidrs.Allocate() is not { } cidr)
        {
            LogExhausted(logger, key, cidrs.Capacity);
            context.Events.Record(
                new Node { Metadata = new ObjectMeta { Name = key, Uid = uid } }, "v1", "Node", "Normal", "CIDRNotAvailable", $"Node {key} status is now: CIDRNotAvailable");
            return ReconcileResult.RequeueIn(ExhaustedRetry);
        }

        assigned[key] = (uid, cidr);
        try
        {
            await PatchAsync(key, cidr, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            assigned.Remove(key);
            cidrs.Release(cidr);
            return ReconcileResult.Done;
        }

        LogAllocated(logger, key, cidr);
        return ReconcileResult.Done;
    }

    private async Task PatchAsync(string name, string cidr, CancellationToken cancellationToken)
    {
        var patch = "{\"spec\":{\"podCIDR\":\"" + cidr + "\",\"podCIDRs\":[\"" + cidr + "\"]}}";
        await context.Client.Resource<Node>().PatchAsync(null, name, PatchType.Merge, patch, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private void Occupy(Node node, string cidr)
    {
        var name = node.Metadata!.Name!;
        if (assigned.TryGetValue(name, out var held) && held.Cidr == cidr)
        {
            return;
        }

        if (held.Cidr is { } stale && stale != cidr)
        {
            cidrs.Release(stale);
        }

        if (cidrs.Occupy(cidr))
        {
            assigned[name] = (node.Metadata.Uid ?? "", cidr);
        }
        else
        {
            // A range given by hand outside the cluster CIDR (or of another size) is the node's own business.
            assigned.Remove(name);
            LogForeign(logger, name, cidr);
        }
    }

    private void WakeWaitingNodes()
    {
        foreach (var node in nodes.List())
        {
            if (node.Spec?.PodCIDR is not { Length: > 0 })
            {
                queue.Add(node.Metadata!.Name!);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Assigned pod CIDR {Cidr} to node {Node}")]
    private static partial void LogAllocated(ILogger logger, string node, string cidr);

    [LoggerMessage(Level = LogLevel.Information, Message = "Released pod CIDR {Cidr} of node {Node}")]
    private static partial void LogReleased(ILogger logger, string node, string cidr);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No pod CIDR left for node {Node}: all {Capacity} ranges of the cluster CIDR are taken")]
    private static partial void LogExhausted(ILogger logger, string node, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Node} has pod CIDR {Cidr}, which is not a range of the cluster CIDR; it is left as it is")]
    private static partial void LogForeign(ILogger logger, string node, string cidr);
}
