using System.Globalization;
using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.Pods;

/// <summary>
/// The order in which a controller gives up surplus pods, most expendable first, as upstream ranks them:
/// unscheduled before scheduled; Pending before Unknown before Running; not ready before ready; lower
/// deletion cost first; pods doubled up on a node first; ready for a shorter time first; more container
/// restarts first; newer before older.
/// </summary>
internal sealed class PodDeletionOrder : IComparer<(Pod Pod, int Rank)>
{
    public const string DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost";

    public static PodDeletionOrder Instance { get; } = new();

    /// <summary>
    /// Picks <paramref name="count"/> pods to delete. <paramref name="relatedPods"/> are pods of sibling
    /// controllers (other ReplicaSets of the same Deployment); a pod sharing its node with many of them ranks
    /// as more expendable.
    /// </summary>
    public static IReadOnlyList<Pod> Select(IReadOnlyList<Pod> pods, IReadOnlyList<Pod> relatedPods, int count)
    {
        if (count >= pods.Count)
        {
            return pods;
        }

        var perNode = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var pod in relatedPods)
        {
            if (pod.Spec?.NodeName is { Length: > 0 } node && PodReadiness.IsActive(pod))
            {
                perNode[node] = perNode.GetValueOrDefault(node) + 1;
            }
        }

        var ranked = pods
            .Select(p => (Pod: p, Rank: p.Spec?.NodeName is { Length: > 0 } node ? perNode.GetValueOrDefault(node) : 0))
            .ToList();
        ranked.Sort(Instance);
        return ranked.Take(count).Select(r => r.Pod).ToList();
    }

    public int Compare((Pod Pod, int Rank) x, (Pod Pod, int Rank) y)
    {
        var a = x.Pod;
        var b = y.Pod;
        var assignedA = !string.IsNullOrEmpty(a.Spec?.NodeName);
        var assignedB = !string.IsNullOrEmpty(b.Spec?.NodeName);
        if (assignedA != assignedB)
        {
            return assignedA ? 1 : -1;
        }

        var phase = PhaseOrder(a).CompareTo(PhaseOrder(b));
        if (phase != 0)
        {
            return phase;
        }

        var readyA = PodReadiness.IsReady(a);
        var readyB = PodReadiness.IsReady(b);
        if (readyA != readyB)
        {
            return readyA ? 1 : -1;
        }

        var cost = DeletionCost(a).CompareTo(DeletionCost(b));
        if (cost != 0)
        {
            return cost;
        }

        if (x.Rank != y.Rank)
        {
            return y.Rank.CompareTo(x.Rank);
        }

        if (readyA && readyB)
        {
            var sinceA = PodReadiness.GetReadyCondition(a)?.LastTransitionTime;
            var sinceB = PodReadiness.GetReadyCondition(b)?.LastTransitionTime;
            if (sinceA != sinceB)
            {
                // Unknown readiness time first, then the more recently ready.
                if (sinceA is null)
                {
                    return -1;
                }

                if (sinceB is null)
                {
                    return 1;
                }

                return sinceB.Value.CompareTo(sinceA.Value);
            }
        }

        var restarts = MaxRestarts(b).CompareTo(MaxRestarts(a));
        if (restarts != 0)
        {
            return restarts;
        }

        var createdA = a.Metadata?.CreationTimestamp;
        var createdB = b.Metadata?.CreationTimestamp;
        if (createdA != createdB)
        {
            if (createdA is null)
            {
                return -1;
            }

            if (createdB is null)
            {
                return 1;
            }

            return createdB.Value.CompareTo(createdA.Value);
        }

        return string.CompareOrdinal(a.Metadata?.Name, b.Metadata?.Name);
    }

    private static int PhaseOrder(Pod pod) => pod.Status?.Phase switch
    {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    };

    private static int DeletionCost(Pod pod) =>
        pod.Metadata?.Annotations?.TryGetValue(DeletionCostAnnotation, out var text) == true &&
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var cost)
            ? cost
            : 0;

    private static int MaxRestarts(Pod pod) =>
        pod.Status?.ContainerStatuses?.Select(c => c.RestartCount ?? 0).DefaultIfEmpty(0).Max() ?? 0;
}
