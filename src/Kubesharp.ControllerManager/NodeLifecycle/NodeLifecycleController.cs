using Kubesharp.Api.Coordination.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Pods;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.NodeLifecycle;

/// <summary>
/// Watches node heartbeats (kube-node-lease Leases and Ready conditions): a node silent for the grace period
/// becomes Unknown and gets the unreachable taints, a NotReady node the not-ready taints; pods on a node with
/// NoExecute taints they do not tolerate (or tolerate only for a while) are evicted.
/// </summary>
internal sealed partial class NodeLifecycleController : IController, IReconciler
{
    public const string LeaseNamespace = "kube-node-lease";
    private const string NodeNameIndex = "spec.nodeName";

    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly NodeHealth health = new();
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<Node> nodes = null!;
    private Lister<Lease> leases = null!;
    private SharedInformer<Pod> podInformer = null!;

    public NodeLifecycleController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<NodeLifecycleController>();
    }

    public string Name => "nodelifecycle";

    public void Register()
    {
        var nodeInformer = context.Informers.Informer<Node>();
        var leaseInformer = context.Informers.Informer<Lease>();
        podInformer = context.Informers.Informer<Pod>();
        podInformer.AddIndexer(NodeNameIndex, p => p.Spec?.NodeName is { Length: > 0 } n ? [n] : []);
        nodes = nodeInformer.Lister;
        leases = leaseInformer.Lister;
        nodeInformer.AddEventHandler(n => queue.Add(n.Metadata!.Name!), (_, n) => queue.Add(n.Metadata!.Name!), n => health.Forget(n.Metadata!.Name!));
        leaseInformer.AddEventHandler(OnLease, (_, l) => OnLease(l));
        podInformer.AddEventHandler(OnPod, (_, p) => OnPod(p));
        syncs.Add(nodeInformer.WaitForSyncAsync);
        syncs.Add(leaseInformer.WaitForSyncAsync);
        syncs.Add(podInformer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        var workers = new ReconcileWorker(Name, queue, this, logger).RunAsync(1, cancellationToken);
        using var timer = new PeriodicTimer(context.Options.NodeMonitorPeriod, context.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var node in nodes.List())
                {
                    queue.Add(node.Metadata!.Name!);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await workers.ConfigureAwait(false);
    }

    private void OnLease(Lease lease)
    {
        if (lease.Metadata?.Namespace == LeaseNamespace && lease.Metadata.Name is { } name)
        {
            queue.Add(name);
        }
    }

    private void OnPod(Pod pod)
    {
        if (pod.Spec?.NodeName is { Length: > 0 } nodeName && nodes.Get(null, nodeName)?.Spec?.Taints?.Any(t => t.Effect == TaintKeys.NoExecute) == true)
        {
            queue.Add(nodeName);
        }
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var cached = nodes.Get(null, key);
        if (cached is null)
        {
            health.Forget(key);
            return ReconcileResult.Done;
        }

        var now = context.Time.GetUtcNow();
        var client = context.Client.Resource<Node>();

        // Every lease renewal lands here (hundreds a second with thousands of nodes): the cached node is only
        // read, and copied only when it is to be written.
        var node = cached;
        var probe = health.Observe(node, leases.Get(LeaseNamespace, key), now);
        var grace = context.Options.NodeMonitorGracePeriod;
        if (now - probe > grace)
        {
            var copy = ObjectCopy.Clone(node);
            if (NodeHealth.MarkUnknown(copy, now))
            {
                LogUnreachable(logger, key);
                node = await client.UpdateStatusAsync(copy, cancellationToken: cancellationToken).ConfigureAwait(false);
                context.Events.Record(node, "Normal", "NodeNotReady", $"Node {key} status is now: NodeNotReady");
                await MarkPodsNotReadyAsync(key, now, cancellationToken).ConfigureAwait(false);
            }
        }

        var desired = NodeTaints.Desired(node, now);
        if (!NodeTaints.SameTaints(node.Spec?.Taints, desired))
        {
            var copy = ReferenceEquals(node, cached) ? ObjectCopy.Clone(node) : node;
            copy.Spec ??= new NodeSpec();
            copy.Spec.Taints = desired.Count > 0 ? desired : null;
            node = await client.UpdateAsync(copy, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var next = await EvictAsync(node, now, cancellationToken).ConfigureAwait(false);
        var healthCheck = probe + grace - now;
        if (healthCheck > TimeSpan.Zero && (next is null || healthCheck < next))
        {
            next = healthCheck + TimeSpan.FromMilliseconds(1);
        }

        return next is { } after ? ReconcileResult.RequeueIn(after) : ReconcileResult.Done;
    }

    private IReadOnlyList<Pod> PodsOn(string nodeName) => podInformer.Lister.ByIndex(NodeNameIndex, nodeName);

    private async Task MarkPodsNotReadyAsync(string nodeName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var client = context.Client.Resource<Pod>();
        foreach (var cached in PodsOn(nodeName))
        {
            if (!PodReadiness.IsReady(cached))
            {
                continue;
            }

            var pod = ObjectCopy.Clone(cached);
            var ready = PodReadiness.GetReadyCondition(pod)!;
            ready.Status = "False";
            ready.LastTransitionTime = now;
            try
            {
                await client.UpdateStatusAsync(pod, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e) when (e.IsNotFound() || e.IsConflict())
            {
            }
        }
    }

    /// <summary>Deletes pods due for eviction; returns how long until the next one is due.</summary>
    private async Task<TimeSpan?> EvictAsync(Node node, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var taints = node.Spec?.Taints ?? [];
        if (!taints.Any(t => t.Effect == TaintKeys.NoExecute))
        {
            return null;
        }

        TimeSpan? next = null;
        var client = context.Client.Resource<Pod>();
        foreach (var pod in PodsOn(node.Metadata!.Name!))
        {
            if (pod.Metadata?.DeletionTimestamp is not null || TaintEviction.EvictionTime(pod, taints, now) is not { } at)
            {
                continue;
            }

            if (at > now)
            {
                var wait = at - now;
                next = next is null || wait < next ? wait : next;
                continue;
            }

            context.Events.Record(pod, "Normal", "TaintManagerEviction", $"Marking for deletion Pod {pod.Metadata!.Namespace}/{pod.Metadata.Name}");
            try
            {
                await client.DeleteAsync(pod.Metadata.Namespace, pod.Metadata.Name!, new DeleteOptions { Preconditions = new Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e) when (e.IsNotFound() || e.IsConflict())
            {
            }
        }

        return next;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {Name} stopped posting status; marking it Unknown")]
    private static partial void LogUnreachable(ILogger logger, string name);
}
