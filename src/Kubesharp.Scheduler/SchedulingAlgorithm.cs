using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler;

/// <summary>
/// The scheduler core: a pure function of a pod and a read-only snapshot. Filters nodes (starting at a
/// rotating offset and stopping once enough are feasible, like upstream's percentageOfNodesToScore), scores
/// the feasible ones, normalises and weights the scores, and picks the best (random among ties).
/// </summary>
public sealed class SchedulingAlgorithm
{
    private const int MinFeasibleNodesToFind = 100;
    private const int MinFeasibleNodesPercentageToFind = 5;
    private readonly SchedulerProfile profile;
    private readonly Random random;
    private int nextStartNodeIndex;
    private string[]? scoreNames;

    public SchedulingAlgorithm(SchedulerProfile profile, int percentageOfNodesToScore = 0, Random? random = null)
    {
        this.profile = profile;
        PercentageOfNodesToScore = percentageOfNodesToScore;
        this.random = random ?? new Random();
    }

    /// <summary>0 chooses adaptively (50% minus 1% per 125 nodes, at least 5%), as upstream.</summary>
    public int PercentageOfNodesToScore { get; }

    public SchedulerProfile Profile => profile;

    public ScheduleResult Schedule(PodInfo pod, ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(snapshot);
        var nodes = snapshot.Nodes;
        var state = new CycleState();
        var verdicts = new List<NodeVerdict>(Math.Min(nodes.Count, NumFeasibleNodesToFind(nodes.Count)));
        if (nodes.Count == 0)
        {
            return new ScheduleResult { TotalNodes = 0, Verdicts = verdicts, FailureMessage = "no nodes available to schedule pods" };
        }

        var filters = new List<IFilterPlugin>(profile.Filters.Count);
        foreach (var plugin in profile.Filters)
        {
            var pre = plugin.PreFilter(state, pod, snapshot);
            if (pre.IsSkip)
            {
                continue;
            }

            filters.Add(plugin);
            if (!pre.IsSuccess)
            {
                foreach (var node in nodes)
                {
                    var verdict = new NodeVerdict(node.Name);
                    verdict.AddFailure(plugin.Name, pre);
                    verdicts.Add(verdict);
                }

                return Failed(nodes.Count, nodes.Count, verdicts);
            }
        }

        var toFind = NumFeasibleNodesToFind(nodes.Count);
        var feasible = new List<NodeInfo>(Math.Min(toFind, nodes.Count));
        var feasibleVerdicts = new List<NodeVerdict>(feasible.Capacity);
        var evaluated = 0;
        var start = nextStartNodeIndex % nodes.Count;
        for (var i = 0; i < nodes.Count && feasible.Count < toFind; i++)
        {
            var node = nodes[(start + i) % nodes.Count];
            evaluated++;
            var verdict = new NodeVerdict(node.Name);
            foreach (var plugin in filters)
            {
                var result = plugin.Filter(state, pod, node);
                // Upstream stops at the first failure; the remaining filters still run so the verdict explains every reason.
                if (!result.IsSuccess)
                {
                    verdict.AddFailure(plugin.Name, result);
                }
            }

            verdicts.Add(verdict);
            if (verdict.Feasible)
            {
                feasible.Add(node);
                feasibleVerdicts.Add(verdict);
            }
        }

        nextStartNodeIndex = (start + evaluated) % nodes.Count;
        if (feasible.Count == 0)
        {
            return Failed(nodes.Count, evaluated, verdicts);
        }

        string chosen;
        if (feasible.Count == 1)
        {
            chosen = feasible[0].Name;
        }
        else
        {
            chosen = Score(state, pod, snapshot, feasible, feasibleVerdicts);
        }

        return new ScheduleResult { NodeName = chosen, TotalNodes = nodes.Count, EvaluatedNodes = evaluated, FeasibleNodes = feasible.Count, Verdicts = verdicts };
    }

    /// <summary>Runs the filters on one node (preemption's what-if check).</summary>
    public bool Fits(PodInfo pod, NodeInfo node, ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var state = new CycleState();
        foreach (var plugin in profile.Filters)
        {
            if (!plugin.PreFilter(state, pod, snapshot).IsSuccess)
            {
                return false;
            }
        }

        return profile.Filters.All(p => p.Filter(state, pod, node).IsSuccess);
    }

    internal int NumFeasibleNodesToFind(int nodeCount)
    {
        if (nodeCount < MinFeasibleNodesToFind || PercentageOfNodesToScore >= 100)
        {
            return nodeCount;
        }

        var percentage = PercentageOfNodesToScore;
        if (percentage <= 0)
        {
            percentage = Math.Max(MinFeasibleNodesPercentageToFind, 50 - (nodeCount / 125));
        }

        return Math.Max(MinFeasibleNodesToFind, nodeCount * percentage / 100);
    }

    private string Score(CycleState state, PodInfo pod, ClusterSnapshot snapshot, List<NodeInfo> feasible, List<NodeVerdict> verdicts)
    {
        var plugins = profile.Scores;
        var names = scoreNames ??= plugins.Select(p => p.Plugin.Name).ToArray();
        var weighted = new long[feasible.Count * plugins.Count];
        var totals = new long[feasible.Count];
        var scores = new long[feasible.Count];
        for (var p = 0; p < plugins.Count; p++)
        {
            var (plugin, weight) = plugins[p];
            plugin.PreScore(state, pod, feasible, snapshot);
            for (var i = 0; i < feasible.Count; i++)
            {
                scores[i] = plugin.Score(state, pod, feasible[i]);
            }

            plugin.Normalize(state, pod, scores);
            for (var i = 0; i < feasible.Count; i++)
            {
                var score = scores[i] * weight;
                weighted[(i * plugins.Count) + p] = score;
                totals[i] += score;
            }
        }

        for (var i = 0; i < feasible.Count; i++)
        {
            verdicts[i].SetScores(names, weighted, i * plugins.Count);
        }

        var best = 0;
        var ties = 1;
        for (var i = 0; i < feasible.Count; i++)
        {
            verdicts[i].TotalScore = totals[i];
            if (i == 0)
            {
                continue;
            }

            if (totals[i] > totals[best])
            {
                best = i;
                ties = 1;
            }
            else if (totals[i] == totals[best] && random.Next(++ties) == 0)
            {
                // Reservoir sampling: each tied node is equally likely.
                best = i;
            }
        }

        return feasible[best].Name;
    }

    private static ScheduleResult Failed(int total, int evaluated, List<NodeVerdict> verdicts)
    {
        var reasons = verdicts.Where(v => v.FirstFailure is not null).SelectMany(v => v.FirstFailure!.Reasons);
        return new ScheduleResult
        {
            TotalNodes = total,
            EvaluatedNodes = evaluated,
            FeasibleNodes = 0,
            Verdicts = verdicts,
            FailureMessage = FailureMessage.Format(total, reasons),
        };
    }
}
