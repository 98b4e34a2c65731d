using Kubesharp.Api.Core.V1;
using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Plugins;

/// <summary>
/// Filters out nodes with an untolerated NoSchedule/NoExecute taint; prefers nodes with fewer untolerated
/// PreferNoSchedule taints.
/// </summary>
public sealed class TaintTolerationPlugin : IFilterPlugin, IScorePlugin
{
    public string Name => "TaintToleration";

    public static bool Tolerates(Toleration toleration, Taint taint)
    {
        ArgumentNullException.ThrowIfNull(toleration);
        ArgumentNullException.ThrowIfNull(taint);
        if (!string.IsNullOrEmpty(toleration.Effect) && toleration.Effect != taint.Effect)
        {
            return false;
        }

        if (!string.IsNullOrEmpty(toleration.Key) && toleration.Key != taint.Key)
        {
            return false;
        }

        return toleration.Operator switch
        {
            "Exists" => true,
            null or "" or "Equal" => string.IsNullOrEmpty(toleration.Key) ? false : (toleration.Value ?? "") == (taint.Value ?? ""),
            _ => false,
        };
    }

    public FilterResult Filter(CycleState state, PodInfo pod, NodeInfo node)
    {
        if (node.Taints.Count == 0)
        {
            return FilterResult.Success;
        }

        var tolerations = pod.Pod.Spec?.Tolerations;
        var taints = node.Taints;
        for (var i = 0; i < taints.Count; i++)
        {
            var taint = taints[i];
            if (taint.Effect is ("NoSchedule" or "NoExecute") && !AnyTolerates(tolerations, taint))
            {
                return FilterResult.Unresolvable($"node(s) had untolerated taint {{{taint.Key}: {taint.Value}}}");
            }
        }

        return FilterResult.Success;
    }

    public long Score(CycleState state, PodInfo pod, NodeInfo node)
    {
        if (node.Taints.Count == 0)
        {
            return 0;
        }

        // Only tolerations without an effect or with PreferNoSchedule can tolerate these taints, which Tolerates checks.
        var tolerations = pod.Pod.Spec?.Tolerations;
        var taints = node.Taints;
        var intolerable = 0;
        for (var i = 0; i < taints.Count; i++)
        {
            if (taints[i].Effect == "PreferNoSchedule" && !AnyTolerates(tolerations, taints[i]))
            {
                intolerable++;
            }
        }

        return intolerable;
    }

    // Runs for every node of every cycle (thousands per pod): a loop, without a closure or enumerator per taint.
    private static bool AnyTolerates(List<Toleration>? tolerations, Taint taint)
    {
        if (tolerations is null)
        {
            return false;
        }

        foreach (var toleration in tolerations)
        {
            if (Tolerates(toleration, taint))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Fewer intolerable taints is better: the node with none gets the maximum.</summary>
    public void Normalize(CycleState state, PodInfo pod, Span<long> scores) => ScoreNormalization.Default(scores, reverse: true);
}
