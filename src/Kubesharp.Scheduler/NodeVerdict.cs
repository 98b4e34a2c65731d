using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler;

/// <summary>What every plugin said about one node in one attempt: failed filters, or weighted scores.</summary>
public sealed record NodeVerdict(string Node)
{
    /// <summary>Failed filters in plugin order (empty when the node is feasible or was not evaluated).</summary>
    public List<(string Plugin, FilterResult Result)> Failures { get; } = [];

    /// <summary>Normalised, weighted score per score plugin (feasible nodes only).</summary>
    public Dictionary<string, long> Scores { get; } = new(StringComparer.Ordinal);

    public long TotalScore { get; set; }

    public bool Feasible => Failures.Count == 0;

    /// <summary>The first failing plugin's result: what upstream's message counts.</summary>
    public FilterResult? FirstFailure => Failures.Count == 0 ? null : Failures[0].Result;
}
