using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Preemption;

/// <summary>A node where the pod fits once the victims are gone.</summary>
public sealed record PreemptionCandidate(string NodeName, IReadOnlyList<PodInfo> Victims);
