using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Plugins;

/// <summary>
/// Required pod affinity and anti-affinity (the incoming pod's and, symmetrically, existing pods'
/// anti-affinity) filter; preferred terms of both sides score per topology domain.
/// </summary>
public sealed class InterPodAffinityPlugin : IFilterPlugin, IScorePlugin
{
    public const string AffinityReason = "node(s) didn't match pod affinity rules";
    public const string AntiAffinityReason = "node(s) didn't match pod anti-affinity rules";
    public const string ExistingAntiAffinityReason = "node(s) didn't satisfy existing pods anti-affinity rules";

    /// <summary>Weight given to existing pods' required affinity terms when scoring (upstream's hardPodAffinityWeight).</summary>
    public const int HardPodAffinityWeight = 1;

    private const string FilterKey = "InterPodAffinity.Filter";
    private const string ScoreKey = "InterPodAffinity.Score";

    public string Name => "InterPodAffinity";

    public FilterResult PreFilter(CycleState state, PodInfo pod, ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(snapshot);
        if (pod.RequiredAffinity.Count == 0 && pod.RequiredAntiAffinity.Count == 0 && snapshot.NodesWithRequiredAntiAffinityPods.Count == 0)
        {
            return FilterResult.Skip;
        }

        var data = new FilterData();
        foreach (var node in snapshot.NodesWithRequiredAntiAffinityPods)
        {
            foreach (var existing in node.Pods)
            {
                foreach (var term in existing.RequiredAntiAffinity)
                {
                    if (node.Labels.TryGetValue(term.TopologyKey, out var value) && term.Matches(pod, snapshot))
                    {
                        Increment(data.ExistingAntiAffinity, term.TopologyKey, value, 1);
                    }
                }
            }
        }

        if (pod.RequiredAffinity.Count > 0 || pod.RequiredAntiAffinity.Count > 0)
        {
            foreach (var node in snapshot.Nodes)
            {
                foreach (var existing in node.Pods)
                {
                    var matchesAll = pod.RequiredAffinity.Count > 0;
                    foreach (var term in pod.RequiredAffinity)
                    {
                        matchesAll &= term.Matches(existing, snapshot);
                    }

                    // Affinity terms must all be met by the same pod's domain.
                    if (matchesAll)
                    {
                        data.AnyAffinityMatch = true;
                        foreach (var term in pod.RequiredAffinity)
                        {
                            if (node.Labels.TryGetValue(term.TopologyKey, out var value))
                            {
                                Increment(data.Affinity, term.TopologyKey, value, 1);
                            }
                        }
                    }

                    foreach (var term in pod.RequiredAntiAffinity)
                    {
                        if (node.Labels.TryGetValue(term.TopologyKey, out var value) && term.Matches(existing, snapshot))
                        {
                            Increment(data.AntiAffinity, term.TopologyKey, value, 1);
                        }
                    }
                }
            }

            data.SelfMatchesAffinity = pod.RequiredAffinity.All(t => t.Matches(pod, snapshot));
        }

        state.Write(FilterKey, data);
        return FilterResult.Success;
    }

    public FilterResult Filter(CycleState state, PodInfo pod, NodeInfo node)
    {
        var data = state.Read<FilterData>(FilterKey) ?? new FilterData();
        if (pod.RequiredAffinity.Count > 0)
        {
            var satisfied = pod.RequiredAffinity.All(term =>
                node.Labels.TryGetValue(term.TopologyKey, out var value) && data.Affinity.GetValueOrDefault((term.TopologyKey, value)) > 0);

            // The first pod of a group that selects itself may go anywhere that has the topology keys.
            if (!satisfied && !(!data.AnyAffinityMatch && data.SelfMatchesAffinity && pod.RequiredAffinity.All(t => node.Labels.ContainsKey(t.TopologyKey))))
            {
                return FilterResult.Unresolvable(AffinityReason);
            }
        }

        foreach (var term in pod.RequiredAntiAffinity)
        {
            if (node.Labels.TryGetValue(term.TopologyKey, out var value) && data.AntiAffinity.GetValueOrDefault((term.TopologyKey, value)) > 0)
            {
                return FilterResult.Unschedulable(AntiAffinityReason);
            }
        }

        foreach (var ((key, value), count) in data.ExistingAntiAffinity)
        {
            if (count > 0 && node.Labels.TryGetValue(key, out var nodeValue) && nodeValue == value)
            {
                return FilterResult.Unschedulable(ExistingAntiAffinityReason);
            }
        }

        return FilterResult.Success;
    }

    public void PreScore(CycleState state, PodInfo pod, IReadOnlyList<NodeInfo> nodes, ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(snapshot);
        var scores = new Dictionary<(string, string), long>();
        var incomingPreferred = pod.PreferredAffinity.Count + pod.PreferredAntiAffinity.Count > 0;
        var candidates = incomingPreferred ? snapshot.Nodes : snapshot.NodesWithAffinityPods;
        foreach (var node in candidates)
        {
            foreach (var existing in node.Pods)
            {
                foreach (var term in pod.PreferredAffinity)
                {
                    AddIfMatches(scores, term, existing, node, term.Weight, snapshot);
                }

                foreach (var term in pod.PreferredAntiAffinity)
                {
                    AddIfMatches(scores, term, existing, node, -term.Weight, snapshot);
                }

                foreach (var term in existing.RequiredAffinity)
                {
                    AddIfMatches(scores, term, pod, node, HardPodAffinityWeight, snapshot);
                }

                foreach (var term in existing.PreferredAffinity)
                {
                    AddIfMatches(scores, term, pod, node, term.Weight, snapshot);
                }

                foreach (var term in existing.PreferredAntiAffinity)
                {
                    AddIfMatches(scores, term, pod, node, -term.Weight, snapshot);
                }
            }
        }

        state.Write(ScoreKey, scores);
    }

    public long Score(CycleState state, PodInfo pod, NodeInfo node)
    {
        var scores = state.Read<Dictionary<(string, string), long>>(ScoreKey);
        if (scores is null || scores.Count == 0)
        {
            return 0;
        }

        long total = 0;
        foreach (var ((key, value), score) in scores)
        {
            if (node.Labels.TryGetValue(key, out var nodeValue) && nodeValue == value)
            {
                total += score;
            }
        }

        return total;
    }

    /// <summary>Min-max scaling: scores may be negative (anti-affinity).</summary>
    public void Normalize(CycleState state, PodInfo pod, Span<long> scores)
    {
        if (scores.IsEmpty)
        {
            return;
        }

        long min = long.MaxValue, max = long.MinValue;
        foreach (var s in scores)
        {
            min = Math.Min(min, s);
            max = Math.Max(max, s);
        }

        var range = max - min;
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = range > 0 ? IScorePlugin.MaxNodeScore * (scores[i] - min) / range : 0;
        }
    }

    private static void AddIfMatches(Dictionary<(string, string), long> scores, AffinityTerm term, PodInfo target, NodeInfo node, long weight, ClusterSnapshot snapshot)
    {
        if (weight != 0 && node.Labels.TryGetValue(term.TopologyKey, out var value) && term.Matches(target, snapshot))
        {
            Increment(scores, term.TopologyKey, value, weight);
        }
    }

    private static void Increment(Dictionary<(string, string), long> counts, string key, string value, long by) =>
        counts[(key, value)] = counts.GetValueOrDefault((key, value)) + by;

    private sealed class FilterData
    {
        public Dictionary<(string, string), long> ExistingAntiAffinity { get; } = [];

        public Dictionary<(string, string), long> Affinity { get; } = [];

        public Dictionary<(string, string), long> AntiAffinity { get; } = [];


        public bool AnyAffinityMatch { get; set; }

        public bool SelfMatchesAffinity { get; set; }
    }
}
