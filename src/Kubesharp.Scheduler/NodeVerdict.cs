using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler;

/// <summary>What every plugin said about one node in one attempt: failed filters, or weighted scores.</summary>
public sealed record NodeVerdict(string Node)
{
    private List<(string Plugin, FilterResult Result)>? failures;
    private Dictionary<string, long>? scores;

    // Scores are written by the algorithm into one array shared by all verdicts of an attempt (hundreds of
    // nodes times seven plugins); the dictionary is only built for the few verdicts someone reads.
    private string[]? scoreNames;
    private long[]? scoreValues;
    private int scoreOffset;

    /// <summary>Failed filters in plugin order (empty when the node is feasible or was not evaluated).</summary>
    public List<(string Plugin, FilterResult Result)> Failures => failures ??= [];

    /// <summary>Normalised, weighted score per score plugin (feasible nodes only).</summary>
    public Dictionary<string, long> Scores => scores ??= MaterializeScores();

    public long TotalScore { get; set; }

    public bool Feasible => failures is null || failures.Count == 0;

    /// <summary>The first failing plugin's result: what upstream's message counts.</summary>
    public FilterResult? FirstFailure => failures is null || failures.Count == 0 ? null : failures[0].Result;

    internal bool HasScores => scoreNames is not null || scores is { Count: > 0 };

    internal void AddFailure(string plugin, FilterResult result) => Failures.Add((plugin, result));

    /// <summary>Scores of <paramref name="names"/>.Length plugins at <paramref name="offset"/> in <paramref name="values"/>.</summary>
    internal void SetScores(string[] names, long[] values, int offset)
    {
        scoreNames = names;
        scoreValues = values;
        scoreOffset = offset;
        scores = null;
    }

    private Dictionary<string, long> MaterializeScores()
    {
        var result = new Dictionary<string, long>(scoreNames?.Length ?? 0, StringComparer.Ordinal);
        if (scoreNames is not null)
        {
            for (var i = 0; i < scoreNames.Length; i++)
            {
                result[scoreNames[i]] = scoreValues![scoreOffset + i];
            }
        }

        return result;
    }
}
