using Kubesharp.Api.Core.V1;
using Kubesharp.Client;
using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Plugins;

/// <summary>
/// topologySpreadConstraints: DoNotSchedule constraints filter nodes whose domain would exceed maxSkew;
/// ScheduleAnyway constraints score emptier domains higher.
/// </summary>
public sealed class PodTopologySpreadPlugin : IFilterPlugin, IScorePlugin
{
    public const string Reason = "node(s) didn't match pod topology spread constraints";
    public const string MissingLabelReason = "node(s) didn't match pod topology spread constraints (missing required label)";
    private const string FilterKey = "PodTopologySpread.Filter";
    private const string ScoreKey = "PodTopologySpread.Score";

    public string Name => "PodTopologySpread";

    public FilterResult PreFilter(CycleState state, PodInfo pod, ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(state);
        var constraints = Constraints(pod, "DoNotSchedule");
        if (constraints.Count > 0)
        {
            state.Write(FilterKey, Count(pod, constraints, snapshot.Nodes));
            return FilterResult.Success;
        }

        return FilterResult.Skip;
    }

    public FilterResult Filter(CycleState state, PodInfo pod, NodeInfo node)
    {
        var counts = state.Read<List<DomainCounts>>(FilterKey);
        if (counts is null)
        {
            return FilterResult.Success;
        }

        foreach (var c in counts)
        {
            if (!node.Labels.TryGetValue(c.Constraint.TopologyKey!, out var domain))
            {
                return FilterResult.Unresolvable(MissingLabelReason);
            }

            var self = c.Selector.Matches(pod.Labels) ? 1 : 0;
            var matching = c.Counts.GetValueOrDefault(domain) + self;
            var minimum = c.Counts.Count == 0 ? 0 : c.Counts.Values.Min();
            if (c.Constraint.MinDomains is { } minDomains && c.Counts.Count < minDomains)
            {
                minimum = 0;
            }

            if (matching - minimum > (c.Constraint.MaxSkew ?? 1))
            {
                return FilterResult.Unschedulable(Reason);
            }
        }

        return FilterResult.Success;
    }

    public void PreScore(CycleState state, PodInfo pod, IReadOnlyList<NodeInfo> nodes, ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(snapshot);
        var constraints = Constraints(pod, "ScheduleAnyway");
        if (constraints.Count > 0)
        {
            state.Write(ScoreKey, Count(pod, constraints, snapshot.Nodes));
        }
    }

    public long Score(CycleState state, PodInfo pod, NodeInfo node)
    {
        var counts = state.Read<List<DomainCounts>>(ScoreKey);
        if (counts is null)
        {
            return 0;
        }

        long score = 0;
        foreach (var c in counts)
        {
            if (node.Labels.TryGetValue(c.Constraint.TopologyKey!, out var domain))
            {
                // Domains are weighted by log(count+2) so constraints over many domains count more, as upstream does.
                var weight = Math.Log(c.Counts.Count + 2);
                score += (long)Math.Round((c.Counts.GetValueOrDefault(domain) * weight) + ((c.Constraint.MaxSkew ?? 1) - 1));
            }
        }

        return score;
    }

    /// <summary>Fewer matching pods in the node's domains is better.</summary>
    public void Normalize(CycleState state, PodInfo pod, Span<long> scores)
    {
        if (state.Read<List<DomainCounts>>(ScoreKey) is null || scores.IsEmpty)
        {
            return;
        }

        long min = long.MaxValue, max = long.MinValue;
        foreach (var s in scores)
        {
            min = Math.Min(min, s);
            max = Math.Max(max, s);
        }

        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = max == 0 ? IScorePlugin.MaxNodeScore : IScorePlugin.MaxNodeScore * (max + min - scores[i]) / max;
        }
    }

    private static List<TopologySpreadConstraint> Constraints(PodInfo pod, string whenUnsatisfiable) =>
        (pod.Pod.Spec?.TopologySpreadConstraints ?? []).Where(c => (c.WhenUnsatisfiable ?? "DoNotSchedule") == whenUnsatisfiable && !string.IsNullOrEmpty(c.TopologyKey)).ToList();

    private static List<DomainCounts> Count(PodInfo pod, List<TopologySpreadConstraint> constraints, IReadOnlyList<NodeInfo> nodes)
    {
        var result = constraints.Select(c => new DomainCounts(c, Selector(pod, c))).ToList();
        foreach (var node in nodes)
        {
            // Only nodes the pod could go to by node affinity count as domains (nodeAffinityPolicy Honor).
            if (!result.All(c => node.Labels.ContainsKey(c.Constraint.TopologyKey!)) || !NodeAffinityPlugin.RequiredMatches(pod.Pod, node))
            {
                continue;
            }

            foreach (var c in result)
            {
                var domain = node.Labels[c.Constraint.TopologyKey!];
                var matching = 0L;
                foreach (var existing in node.Pods)
                {
                    if (existing.Namespace == pod.Namespace && existing.Pod.Metadata?.DeletionTimestamp is null && c.Selector.Matches(existing.Labels))
                    {
                        matching++;
                    }
                }

                c.Counts[domain] = c.Counts.GetValueOrDefault(domain) + matching;
            }
        }

        return result;
    }

    private static LabelSelectorMatcher Selector(PodInfo pod, TopologySpreadConstraint constraint)
    {
        var selector = LabelSelectorMatcher.FromLabelSelector(constraint.LabelSelector);
        if (constraint.MatchLabelKeys is { Count: > 0 } keys && !selector.MatchesNothing)
        {
            selector = LabelSelectorMatcher.Create(selector.Requirements.Concat(
                keys.Where(pod.Labels.ContainsKey).Select(k => new LabelRequirement(k, LabelOperator.In, [pod.Labels[k]]))));
        }

        return selector;
    }

    private sealed record DomainCounts(TopologySpreadConstraint Constraint, LabelSelectorMatcher Selector)
    {
        public Dictionary<string, long> Counts { get; } = new(StringComparer.Ordinal);
    }
}
