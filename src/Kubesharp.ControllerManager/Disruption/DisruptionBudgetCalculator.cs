using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Policy.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.Ownership;
using Kubesharp.ControllerManager.Pods;

namespace Kubesharp.ControllerManager.Disruption;

/// <summary>
/// A PodDisruptionBudget's status from the pods it selects: how many are healthy, how many must stay healthy
/// and so how many evictions are allowed now.
/// </summary>
internal static class DisruptionBudgetCalculator
{
    public const string DisruptionAllowed = "DisruptionAllowed";

    /// <summary>How long an eviction's entry in disruptedPods holds a pod out of the healthy count.</summary>
    public static readonly TimeSpan DeletionTimeout = TimeSpan.FromMinutes(2);

    /// <param name="pods">The pods the budget selects.</param>
    /// <param name="scaleOf">The replicas of a pod's controller, or null when it is not a scalable controller.</param>
    public static PodDisruptionBudgetStatus Calculate(PodDisruptionBudget pdb, IReadOnlyList<Pod> pods, Func<string, OwnerReference, int?> scaleOf, DateTimeOffset now)
    {
        var spec = pdb.Spec ?? new PodDisruptionBudgetSpec();
        var disrupted = (pdb.Status?.DisruptedPods ?? [])
            .Where(p => p.Value + DeletionTimeout > now && pods.Any(pod => pod.Metadata?.Name == p.Key && pod.Metadata.DeletionTimestamp is null))
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var healthy = pods.Count(p => p.Metadata?.DeletionTimestamp is null && !disrupted.ContainsKey(p.Metadata?.Name ?? string.Empty) && PodReadiness.IsReady(p));
        string? failure = null;
        int expected;
        int desired;
        if (spec.MaxUnavailable is { } maxUnavailable)
        {
            (expected, failure) = ExpectedScale(pdb, pods, scaleOf);
            desired = Math.Max(0, expected - Scaled(maxUnavailable, expected));
        }
        else if (spec.MinAvailable is { } minAvailable && !minAvailable.IsString)
        {
            desired = minAvailable.IntValue;
            expected = pods.Count;
        }
        else if (spec.MinAvailable is { } minPercent)
        {
            (expected, failure) = ExpectedScale(pdb, pods, scaleOf);
            desired = Scaled(minPercent, expected);
        }
        else
        {
            expected = 0;
            desired = 0;
        }

        var allowed = healthy - desired;
        if (expected <= 0 || allowed <= 0 || failure is not null)
        {
            allowed = 0;
        }

        var condition = failure is not null
            ? new Condition { Type = DisruptionAllowed, Status = "False", Reason = "SyncFailed", Message = failure }
            : allowed > 0
                ? new Condition { Type = DisruptionAllowed, Status = "True", Reason = "SufficientPods", Message = string.Empty }
                : new Condition { Type = DisruptionAllowed, Status = "False", Reason = "InsufficientPods", Message = string.Empty };
        var existing = pdb.Status?.Conditions?.FirstOrDefault(c => c.Type == DisruptionAllowed);
        condition.ObservedGeneration = pdb.Metadata?.Generation;
        condition.LastTransitionTime = existing is not null && existing.Status == condition.Status ? existing.LastTransitionTime : now;
        return new PodDisruptionBudgetStatus
        {
            ObservedGeneration = pdb.Metadata?.Generation,
            CurrentHealthy = healthy,
            DesiredHealthy = desired,
            ExpectedPods = expected,
            DisruptionsAllowed = allowed,
            DisruptedPods = disrupted.Count > 0 ? disrupted : null,
            Conditions = [condition],
        };
    }

    /// <summary>When the next disruptedPods entry expires, so the budget is recomputed then.</summary>
    public static TimeSpan? NextExpiry(PodDisruptionBudgetStatus status, DateTimeOffset now) =>
        status.DisruptedPods is { Count: > 0 } entries ? entries.Values.Min() + DeletionTimeout - now : null;

    private static int Scaled(Kubesharp.ApiMachinery.IntOrString value, int total)
    {
        try
        {
            return value.GetScaledValueFromIntOrPercent(total, roundUp: true);
        }
        catch (FormatException)
        {
            return total;
        }
    }

    /// <summary>The summed replicas of the controllers of the selected pods.</summary>
    private static (int Expected, string? Failure) ExpectedScale(PodDisruptionBudget pdb, IReadOnlyList<Pod> pods, Func<string, OwnerReference, int?> scaleOf)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var expected = 0;
        foreach (var pod in pods)
        {
            var controller = ControllerRef.Of(pod.Metadata);
            if (controller is null)
            {
                return (0, $"found no controller ref for pod \"{pod.Metadata?.Name}\"");
            }

            if (!seen.Add(controller.Uid ?? string.Empty))
            {
                continue;
            }

            if (scaleOf(pdb.Metadata?.Namespace ?? string.Empty, controller) is not { } scale)
            {
                return (0, $"found no controllers for pod \"{pod.Metadata?.Name}\"");
            }

            expected += scale;
        }

        return (expected, null);
    }
}
