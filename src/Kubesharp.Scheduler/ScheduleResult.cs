namespace Kubesharp.Scheduler;

/// <summary>The outcome of one scheduling attempt with the full per-node, per-plugin verdict.</summary>
public sealed record ScheduleResult
{
    /// <summary>The chosen node; null when no node fits.</summary>
    public string? NodeName { get; init; }

    public int TotalNodes { get; init; }

    /// <summary>Nodes whose filters ran (upstream stops after enough feasible nodes).</summary>
    public int EvaluatedNodes { get; init; }

    public int FeasibleNodes { get; init; }

    public required IReadOnlyList<NodeVerdict> Verdicts { get; init; }

    /// <summary>Set when scheduling failed: upstream's FailedScheduling message (preemption part appended later).</summary>
    public string? FailureMessage { get; init; }
}
