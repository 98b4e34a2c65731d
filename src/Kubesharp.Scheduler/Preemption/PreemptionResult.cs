namespace Kubesharp.Scheduler.Preemption;

/// <summary>The chosen candidate, or the "preemption: …" text explaining why there is none.</summary>
public sealed record PreemptionResult(PreemptionCandidate? Candidate, string Message);
