using Kubesharp.Api.Apps.V1;

namespace Kubesharp.ControllerManager.Deployments;

/// <summary>Deployment condition types and reasons, and the rules by which they are set.</summary>
internal static class DeploymentConditions
{
    public const string Available = "Available";
    public const string Progressing = "Progressing";
    public const string ReplicaFailure = "ReplicaFailure";

    public const string NewReplicaSetCreated = "NewReplicaSetCreated";
    public const string FoundNewReplicaSet = "FoundNewReplicaSet";
    public const string ReplicaSetUpdated = "ReplicaSetUpdated";
    public const string NewReplicaSetAvailable = "NewReplicaSetAvailable";
    public const string ProgressDeadlineExceeded = "ProgressDeadlineExceeded";
    public const string DeploymentPaused = "DeploymentPaused";
    public const string DeploymentResumed = "DeploymentResumed";
    public const string MinimumReplicasAvailable = "MinimumReplicasAvailable";
    public const string MinimumReplicasUnavailable = "MinimumReplicasUnavailable";
    public const string ReplicaSetCreateError = "ReplicaSetCreateError";

    public static DeploymentCondition New(string type, string status, string reason, string message, DateTimeOffset now) => new()
    {
        Type = type,
        Status = status,
        Reason = reason,
        Message = message,
        LastUpdateTime = now,
        LastTransitionTime = now,
    };

    public static DeploymentCondition? Get(DeploymentStatus? status, string type) =>
        status?.Conditions?.FirstOrDefault(c => c.Type == type);

    /// <summary>
    /// Sets a condition. The same status and reason leave the existing condition untouched; the same status
    /// with another reason keeps the original transition time.
    /// </summary>
    public static void Set(DeploymentStatus status, DeploymentCondition condition)
    {
        var current = Get(status, condition.Type!);
        if (current is not null && current.Status == condition.Status && current.Reason == condition.Reason)
        {
            return;
        }

        if (current is not null && current.Status == condition.Status)
        {
            condition.LastTransitionTime = current.LastTransitionTime;
        }

        Remove(status, condition.Type!);
        status.Conditions ??= [];
        status.Conditions.Add(condition);
    }

    public static void Remove(DeploymentStatus status, string type)
    {
        status.Conditions?.RemoveAll(c => c.Type == type);
        if (status.Conditions is { Count: 0 })
        {
            status.Conditions = null;
        }
    }

    public static bool HasProgressDeadline(Deployment deployment) =>
        deployment.Spec?.ProgressDeadlineSeconds is { } seconds && seconds != int.MaxValue;

    /// <summary>All replicas updated, present and available, and the latest spec observed.</summary>
    public static bool IsComplete(Deployment deployment, DeploymentStatus status)
    {
        var replicas = RollingUpdateBudget.Replicas(deployment);
        return (status.UpdatedReplicas ?? 0) == replicas &&
               (status.Replicas ?? 0) == replicas &&
               (status.AvailableReplicas ?? 0) == replicas &&
               (status.ObservedGeneration ?? 0) >= (deployment.Metadata?.Generation ?? 0);
    }

    /// <summary>Any sign of progress between the recorded status and the new one.</summary>
    public static bool IsProgressing(Deployment deployment, DeploymentStatus newStatus)
    {
        var old = deployment.Status ?? new DeploymentStatus();
        var oldOld = (old.Replicas ?? 0) - (old.UpdatedReplicas ?? 0);
        var newOld = (newStatus.Replicas ?? 0) - (newStatus.UpdatedReplicas ?? 0);
        return (newStatus.UpdatedReplicas ?? 0) > (old.UpdatedReplicas ?? 0) ||
               newOld < oldOld ||
               (newStatus.ReadyReplicas ?? 0) > (old.ReadyReplicas ?? 0) ||
               (newStatus.AvailableReplicas ?? 0) > (old.AvailableReplicas ?? 0);
    }

    /// <summary>No progress for longer than progressDeadlineSeconds since the Progressing condition last moved.</summary>
    public static bool HasTimedOut(Deployment deployment, DeploymentStatus newStatus, DateTimeOffset now)
    {
        if (!HasProgressDeadline(deployment))
        {
            return false;
        }

        var condition = Get(newStatus, Progressing);
        if (condition is null || condition.Reason == NewReplicaSetAvailable)
        {
            return false;
        }

        if (condition.Reason == ProgressDeadlineExceeded)
        {
            return true;
        }

        var from = condition.LastUpdateTime ?? condition.LastTransitionTime ?? now;
        return from.AddSeconds(deployment.Spec!.ProgressDeadlineSeconds!.Value) < now;
    }
}
