using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ControllerManager.Pods;
using Kubesharp.ControllerManager.Selection;

namespace Kubesharp.ControllerManager.ReplicaSets;

/// <summary>Computes a ReplicaSet's status from the active pods it owns.</summary>
internal static class ReplicaSetStatusCalculator
{
    public const string ReplicaFailure = "ReplicaFailure";

    /// <param name="failure">The error of the last create or delete round, with whether it was a create.</param>
    public static ReplicaSetStatus Calculate(ReplicaSet replicaSet, IReadOnlyList<Pod> activePods, DateTimeOffset now, (bool Create, string Message)? failure)
    {
        var minReadySeconds = replicaSet.Spec?.MinReadySeconds ?? 0;
        var templateLabels = replicaSet.Spec?.Template?.Metadata?.Labels ?? [];
        var fullyLabeled = 0;
        var ready = 0;
        var available = 0;
        foreach (var pod in activePods)
        {
            if (templateLabels.All(l => pod.Metadata?.Labels?.TryGetValue(l.Key, out var v) == true && v == l.Value))
            {
                fullyLabeled++;
            }

            if (PodReadiness.IsReady(pod))
            {
                ready++;
                if (PodReadiness.IsAvailable(pod, minReadySeconds, now))
                {
                    available++;
                }
            }
        }

        var conditions = replicaSet.Status?.Conditions?.Select(c => c with { }).ToList() ?? [];
        var existing = conditions.FirstOrDefault(c => c.Type == ReplicaFailure);
        if (failure is { } f && existing is null)
        {
            conditions.Add(new ReplicaSetCondition
            {
                Type = ReplicaFailure,
                Status = "True",
                Reason = f.Create ? "FailedCreate" : "FailedDelete",
                Message = f.Message,
                LastTransitionTime = now,
            });
        }
        else if (failure is null && existing is not null)
        {
            conditions.Remove(existing);
        }

        return new ReplicaSetStatus
        {
            Replicas = activePods.Count,
            FullyLabeledReplicas = fullyLabeled,
            ReadyReplicas = ready,
            AvailableReplicas = available,
            ObservedGeneration = replicaSet.Metadata?.Generation,
            Conditions = conditions.Count > 0 ? conditions : null,
        };
    }

    /// <summary>
    /// When a pod that is ready but not yet available becomes available, so the controller can look again then.
    /// </summary>
    public static TimeSpan? NextAvailabilityCheck(ReplicaSet replicaSet, IReadOnlyList<Pod> activePods, DateTimeOffset now)
    {
        var minReadySeconds = replicaSet.Spec?.MinReadySeconds ?? 0;
        if (minReadySeconds <= 0)
        {
            return null;
        }

        TimeSpan? earliest = null;
        foreach (var pod in activePods)
        {
            if (PodReadiness.AvailableAt(pod, minReadySeconds) is { } at && at >= now)
            {
                var wait = at - now + TimeSpan.FromSeconds(1);
                if (earliest is null || wait < earliest)
                {
                    earliest = wait;
                }
            }
        }

        return earliest;
    }

    /// <summary>Whether the pod matches the ReplicaSet's selector.</summary>
    public static bool Selects(ReplicaSet replicaSet, Pod pod) =>
        LabelSelectorEvaluator.Matches(replicaSet.Spec?.Selector, pod.Metadata?.Labels);
}
