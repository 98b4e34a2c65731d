using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Preemption;

/// <summary>
/// Finds, for an unschedulable pod, the node where evicting the fewest, lowest-priority pods makes it fit.
/// Per node: remove every lower-priority pod; if the pod then fits, add them back highest priority first
/// while it still fits (reprieve); the rest are the victims.
/// </summary>
public sealed class DefaultPreemption(SchedulingAlgorithm algorithm)
{
    public const string NotHelpful = "Preemption is not helpful for scheduling";
    public const string NoVictims = "No preemption victims found for incoming pod";

    public PreemptionResult Find(PodInfo pod, ClusterSnapshot snapshot, ScheduleResult failed)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(failed);
        if (pod.PreemptionNever)
        {
            return new PreemptionResult(null, "preemption: not eligible due to preemptionPolicy=Never.");
        }

        var reasons = new List<string>();
        var candidates = new List<PreemptionCandidate>();
        foreach (var verdict in failed.Verdicts)
        {
            var first = verdict.FirstFailure;
            var node = snapshot.Get(verdict.Node);
            if (first is null || node is null || verdict.Failures.Any(f => f.Result.Code == FilterCode.UnschedulableAndUnresolvable))
            {
                reasons.Add(NotHelpful);
                continue;
            }

            var victims = Victims(pod, node, snapshot);
            if (victims is null)
            {
                reasons.Add(NoVictims);
                continue;
            }

            candidates.Add(new PreemptionCandidate(node.Name, victims));
        }

        if (candidates.Count == 0)
        {
            var message = FailureMessage.Format(failed.TotalNodes, reasons);
            return new PreemptionResult(null, "preemption: " + message);
        }

        // Lowest highest-victim priority, then smallest priority sum, then fewest victims.
        var best = candidates
            .OrderBy(c => c.Victims.Count == 0 ? int.MinValue : c.Victims.Max(v => v.Priority))
            .ThenBy(c => c.Victims.Sum(v => (long)v.Priority))
            .ThenBy(c => c.Victims.Count)
            .First();
        return new PreemptionResult(best, "");
    }

    private List<PodInfo>? Victims(PodInfo pod, NodeInfo node, ClusterSnapshot snapshot)
    {
        var lower = node.Pods.Where(p => p.Priority < pod.Priority).ToList();
        if (lower.Count == 0)
        {
            return null;
        }

        var trial = node.Clone();
        foreach (var victim in lower)
        {
            trial.RemovePod(victim.Key);
        }

        if (!algorithm.Fits(pod, trial, snapshot))
        {
            return null;
        }

        var victims = new List<PodInfo>();
        foreach (var candidate in lower.OrderByDescending(p => p.Priority))
        {
            trial.AddPod(candidate);
            if (!algorithm.Fits(pod, trial, snapshot))
            {
                trial.RemovePod(candidate.Key);
                victims.Add(candidate);
            }
        }

        return victims;
    }
}
