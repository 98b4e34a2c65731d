using Kubesharp.Api.Apps.V1;
using Kubesharp.ApiMachinery;

namespace Kubesharp.ControllerManager.Deployments;

/// <summary>
/// The surge and unavailability budget of a rolling update. Percentages of the replica count round up for
/// surge and down for unavailability; when both come out zero, one pod may be unavailable so the rollout can move.
/// </summary>
internal static class RollingUpdateBudget
{
    public const string RollingUpdate = "RollingUpdate";
    public const string Recreate = "Recreate";

    private static readonly IntOrString DefaultPercent = "25%";

    public static bool IsRollingUpdate(Deployment deployment) =>
        (deployment.Spec?.Strategy?.Type ?? RollingUpdate) == RollingUpdate;

    public static (int MaxSurge, int MaxUnavailable) ResolveFenceposts(IntOrString? maxSurge, IntOrString? maxUnavailable, int replicas)
    {
        var surge = (maxSurge ?? DefaultPercent).GetScaledValueFromIntOrPercent(replicas, roundUp: true);
        var unavailable = (maxUnavailable ?? DefaultPercent).GetScaledValueFromIntOrPercent(replicas, roundUp: false);
        if (surge == 0 && unavailable == 0)
        {
            unavailable = 1;
        }

        return (surge, unavailable);
    }

    public static int MaxSurge(Deployment deployment)
    {
        if (!IsRollingUpdate(deployment))
        {
            return 0;
        }

        var rolling = deployment.Spec?.Strategy?.RollingUpdate;
        return ResolveFenceposts(rolling?.MaxSurge, rolling?.MaxUnavailable, Replicas(deployment)).MaxSurge;
    }

    public static int MaxUnavailable(Deployment deployment)
    {
        var replicas = Replicas(deployment);
        if (!IsRollingUpdate(deployment) || replicas == 0)
        {
            return 0;
        }

        var rolling = deployment.Spec?.Strategy?.RollingUpdate;
        var unavailable = ResolveFenceposts(rolling?.MaxSurge, rolling?.MaxUnavailable, replicas).MaxUnavailable;
        return Math.Min(unavailable, replicas);
    }

    public static int Replicas(Deployment deployment) => deployment.Spec?.Replicas ?? 1;

    /// <summary>How far the new ReplicaSet may grow now without exceeding replicas + maxSurge pods in all.</summary>
    public static int NewReplicaSetReplicas(Deployment deployment, IEnumerable<ReplicaSet> allReplicaSets, ReplicaSet newReplicaSet)
    {
        var replicas = Replicas(deployment);
        var current = newReplicaSet.Spec?.Replicas ?? 0;
        if (!IsRollingUpdate(deployment))
        {
            return replicas;
        }

        var total = allReplicaSets.Sum(rs => rs.Spec?.Replicas ?? 0);
        var maxTotal = replicas + MaxSurge(deployment);
        if (total >= maxTotal)
        {
            return current;
        }

        var scaleUp = Math.Min(maxTotal - total, replicas - current);
        return current + scaleUp;
    }
}
