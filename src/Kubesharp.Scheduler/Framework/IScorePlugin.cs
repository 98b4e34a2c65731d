namespace Kubesharp.Scheduler.Framework;

/// <summary>Ranks feasible nodes; scores are normalised to 0..<see cref="MaxNodeScore"/> and weighted.</summary>
public interface IScorePlugin
{
    const long MaxNodeScore = 100;

    string Name { get; }

    /// <summary>Once per cycle before Score, with the feasible nodes.</summary>
    void PreScore(CycleState state, PodInfo pod, IReadOnlyList<NodeInfo> nodes, ClusterSnapshot snapshot)
    {
    }

    long Score(CycleState state, PodInfo pod, NodeInfo node);

    /// <summary>Maps raw scores onto 0..MaxNodeScore in place (default: already in range).</summary>
    void Normalize(CycleState state, PodInfo pod, Span<long> scores)
    {
    }
}
