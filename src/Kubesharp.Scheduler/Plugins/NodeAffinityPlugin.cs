using Kubesharp.Api.Core.V1;
using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Plugins;

/// <summary>spec.nodeSelector and required node affinity filter; preferred node affinity scores.</summary>
public sealed class NodeAffinityPlugin : IFilterPlugin, IScorePlugin
{
    public const string Reason = "node(s) didn't match Pod's node affinity/selector";

    public string Name => "NodeAffinity";

    public FilterResult PreFilter(CycleState state, PodInfo pod, ClusterSnapshot snapshot) =>
        pod?.Pod.Spec is { } spec && (spec.NodeSelector is { Count: > 0 } || spec.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution is not null)
            ? FilterResult.Success
            : FilterResult.Skip;

    /// <summary>Whether the node satisfies the pod's nodeSelector and required node affinity.</summary>
    public static bool RequiredMatches(Pod pod, NodeInfo node)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(node);
        if (pod.Spec?.NodeSelector is { } selector)
        {
            foreach (var (key, value) in selector)
            {
                if (!node.Labels.TryGetValue(key, out var actual) || actual != value)
                {
                    return false;
                }
            }
        }

        var required = pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution;
        return required?.NodeSelectorTerms is not { } terms || terms.Any(t => TermMatches(t, node));
    }

    /// <summary>All expressions and fields of a term must match; an empty term matches nothing.</summary>
    public static bool TermMatches(NodeSelectorTerm term, NodeInfo node)
    {
        ArgumentNullException.ThrowIfNull(term);
        var expressions = term.MatchExpressions ?? [];
        var fields = term.MatchFields ?? [];
        if (expressions.Count == 0 && fields.Count == 0)
        {
            return false;
        }

        foreach (var requirement in expressions)
        {
            if (!RequirementMatches(requirement, node.Labels.TryGetValue(requirement.Key ?? "", out var value) ? value : null))
            {
                return false;
            }
        }

        foreach (var requirement in fields)
        {
            if (requirement.Key != "metadata.name" || !RequirementMatches(requirement, node.Name))
            {
                return false;
            }
        }

        return true;
    }

    public FilterResult Filter(CycleState state, PodInfo pod, NodeInfo node) =>
        RequiredMatches(pod.Pod, node) ? FilterResult.Success : FilterResult.Unresolvable(Reason);

    public long Score(CycleState state, PodInfo pod, NodeInfo node)
    {
        // Runs for every node of every cycle: most pods prefer nothing, and `?? []` would allocate a list per node.
        if (pod.Pod.Spec?.Affinity?.NodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution is not { Count: > 0 } terms)
        {
            return 0;
        }

        long score = 0;
        foreach (var preferred in terms)
        {
            if (preferred.Preference is { } term && TermMatches(term, node))
            {
                score += preferred.Weight ?? 0;
            }
        }

        return score;
    }

    public void Normalize(CycleState state, PodInfo pod, Span<long> scores) => ScoreNormalization.Default(scores, reverse: false);

    private static bool RequirementMatches(NodeSelectorRequirement requirement, string? value)
    {
        var values = requirement.Values ?? [];
        return requirement.Operator switch
        {
            "In" => value is not null && values.Contains(value),
            "NotIn" => value is null || !values.Contains(value),
            "Exists" => value is not null,
            "DoesNotExist" => value is null,
            "Gt" => value is not null && values.Count == 1 && long.TryParse(value, out var v) && long.TryParse(values[0], out var b) && v > b,
            "Lt" => value is not null && values.Count == 1 && long.TryParse(value, out var l) && long.TryParse(values[0], out var lb) && l < lb,
            _ => false,
        };
    }
}
