using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Policy.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;
using Kubesharp.ControllerManager.Selection;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Disruption;

/// <summary>Keeps each PodDisruptionBudget's status (healthy, desired, expected, allowed disruptions) current.</summary>
internal sealed class DisruptionController : IController, IReconciler
{
    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<PodDisruptionBudget> budgets = null!;
    private Lister<Pod> pods = null!;
    private Lister<ReplicaSet> replicaSets = null!;
    private Lister<Deployment> deployments = null!;
    private Lister<StatefulSet> statefulSets = null!;

    public DisruptionController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<DisruptionController>();
    }

    public string Name => "disruption";

    public void Register()
    {
        var pdbInformer = context.Informers.Informer<PodDisruptionBudget>();
        var podInformer = context.Informers.Informer<Pod>();
        budgets = pdbInformer.Lister;
        pods = podInformer.Lister;
        replicaSets = context.Informers.Lister<ReplicaSet>();
        deployments = context.Informers.Lister<Deployment>();
        statefulSets = context.Informers.Lister<StatefulSet>();
        pdbInformer.AddEventHandler(p => queue.Add(ObjectKey.Of(p)), (_, p) => queue.Add(ObjectKey.Of(p)));
        podInformer.AddEventHandler(EnqueueBudgets, (_, p) => EnqueueBudgets(p), EnqueueBudgets);
        syncs.Add(pdbInformer.WaitForSyncAsync);
        syncs.Add(podInformer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(2, cancellationToken).ConfigureAwait(false);
    }

    private void EnqueueBudgets(Pod pod)
    {
        foreach (var pdb in budgets.List(pod.Metadata?.Namespace ?? string.Empty))
        {
            if (LabelSelectorEvaluator.Matches(pdb.Spec?.Selector, pod.Metadata?.Labels))
            {
                queue.Add(ObjectKey.Of(pdb));
            }
        }
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        var cached = budgets.Get(ns, name);
        if (cached is null)
        {
            return ReconcileResult.Done;
        }

        var selected = pods.List(ns).Where(p => LabelSelectorEvaluator.Matches(cached.Spec?.Selector, p.Metadata?.Labels)).ToList();
        var now = context.Time.GetUtcNow();
        var status = DisruptionBudgetCalculator.Calculate(cached, selected, ScaleOf, now);
        if (!ObjectCopy.SemanticEquals(cached.Status ?? new PodDisruptionBudgetStatus(), status))
        {
            var pdb = ObjectCopy.Clone(cached);
            pdb.Status = status;
            try
            {
                await context.Client.Resource<PodDisruptionBudget>().UpdateStatusAsync(pdb, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
                return ReconcileResult.Done;
            }
        }

        return DisruptionBudgetCalculator.NextExpiry(status, now) is { } after ? ReconcileResult.RequeueIn(after + TimeSpan.FromSeconds(1)) : ReconcileResult.Done;
    }

    private int? ScaleOf(string ns, OwnerReference controller)
    {
        switch (controller.Kind)
        {
            case ReplicaSet.KubeKind:
                var rs = replicaSets.Get(ns, controller.Name!);
                if (rs?.Metadata?.Uid != controller.Uid)
                {
                    return null;
                }

                // A ReplicaSet of a Deployment scales with the Deployment.
                if (ControllerRef.Of(rs!.Metadata) is { Kind: Deployment.KubeKind } owner && deployments.Get(ns, owner.Name!) is { } d && d.Metadata?.Uid == owner.Uid)
                {
                    return d.Spec?.Replicas ?? 1;
                }

                return rs.Spec?.Replicas ?? 1;
            case StatefulSet.KubeKind:
                var sts = statefulSets.Get(ns, controller.Name!);
                return sts?.Metadata?.Uid == controller.Uid ? sts!.Spec?.Replicas ?? 1 : null;
            default:
                return null;
        }
    }
}
