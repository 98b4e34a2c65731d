using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.Pods;

/// <summary>Pod phase and readiness predicates as the controllers read them.</summary>
internal static class PodReadiness
{
    public const string Ready = "Ready";

    /// <summary>Not finished and not being deleted: a pod a controller counts towards its replicas.</summary>
    public static bool IsActive(Pod pod) =>
        pod.Status?.Phase is not ("Succeeded" or "Failed") && pod.Metadata?.DeletionTimestamp is null;

    public static bool IsTerminated(Pod pod) => pod.Status?.Phase is "Succeeded" or "Failed";

    public static PodCondition? GetReadyCondition(Pod pod) =>
        pod.Status?.Conditions?.FirstOrDefault(c => c.Type == Ready);

    public static bool IsReady(Pod pod) => GetReadyCondition(pod)?.Status == "True";

    /// <summary>Ready for at least minReadySeconds (always when minReadySeconds is zero).</summary>
    public static bool IsAvailable(Pod pod, int minReadySeconds, DateTimeOffset now)
    {
        var condition = GetReadyCondition(pod);
        if (condition?.Status != "True")
        {
            return false;
        }

        if (minReadySeconds <= 0)
        {
            return true;
        }

        return condition.LastTransitionTime is { } since && since.AddSeconds(minReadySeconds) < now;
    }

    /// <summary>When a ready pod becomes available, or null when it is not ready.</summary>
    public static DateTimeOffset? AvailableAt(Pod pod, int minReadySeconds)
    {
        var condition = GetReadyCondition(pod);
        return condition?.Status == "True" && condition.LastTransitionTime is { } since ? since.AddSeconds(minReadySeconds) : null;
    }
}
