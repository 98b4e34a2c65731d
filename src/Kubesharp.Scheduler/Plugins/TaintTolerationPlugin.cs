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

        var tolerations = pod.Pod.Spec?.Tolerations ?? [];
        foreach (var taint in node.Taints)
        {
            if (taint.Effect is not ("NoSchedule" or "NoExecute"))
            {
                continue;
            }

            if (!tolerations.Any(t => Tolerates(t, taint)))
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

        var tolerations = (pod.Pod.Spec?.Tolerations ?? []).Where(t => string.IsNullOrEmpty(t.Effect) || t.Effect == "PreferNoSchedule").ToList();
        return node.Taints.Count(taint => taint.Effect == "PreferNoSchedule" && !tolerations.Any(t => Tolerates(t, taint)));
    }

    /// <summary>Fewer intolerable taints is better: the node with none gets the maximum.</summary>
    public void Normalize(CycleState state, PodInfo pod, Span<long> scores) => ScoreNormalization.Default(scores, reverse: true);
}
