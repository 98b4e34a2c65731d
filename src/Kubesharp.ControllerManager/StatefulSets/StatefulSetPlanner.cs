using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ControllerManager.Pods;

namespace Kubesharp.ControllerManager.StatefulSets;

/// <summary>
/// Plans a StatefulSet sync as upstream's StatefulSet control does it. Pods in the ordinal range
/// [start, start+replicas) are created when missing, failed ones recreated; pods outside it are condemned and
/// deleted from the highest ordinal down. With OrderedReady every step waits until the pods before it are
/// Running, Ready and available, one pod at a time; Parallel creates and deletes at once. A RollingUpdate then
/// replaces pods not at the update revision from the highest ordinal down to the partition, at most
/// maxUnavailable unavailable at a time; OnDelete leaves replacement to whoever deletes the pods.
/// </summary>
internal static class StatefulSetPlanner
{
    public const string OrderedReady = "OrderedReady";
    public const string Parallel = "Parallel";
    public const string RollingUpdate = "RollingUpdate";
    public const string OnDelete = "OnDelete";

    public static StatefulSetPlan Plan(
        StatefulSet set,
        PodTemplateSpec? currentTemplate,
        string currentRevision,
        PodTemplateSpec? updateTemplate,
        string updateRevision,
        IReadOnlyList<Pod> pods,
        DateTimeOffset now)
    {
        var start = StatefulPodIdentity.StartOrdinal(set);
        var replicaCount = Math.Max(StatefulPodIdentity.Replicas(set), 0);
        var minReadySeconds = set.Spec?.MinReadySeconds ?? 0;
        var replicas = new Pod?[replicaCount];
        var condemned = new List<(int Ordinal, Pod Pod)>();
        foreach (var pod in pods)
        {
            var ordinal = StatefulPodIdentity.Ordinal(set, pod);
            if (ordinal < 0)
            {
                continue;
            }

            if (StatefulPodIdentity.InRange(set, ordinal))
            {
                replicas[ordinal - start] = pod;
            }
            else
            {
                condemned.Add((ordinal, pod));
            }
        }

        condemned.Sort((a, b) => a.Ordinal.CompareTo(b.Ordinal));
        var members = replicas.Select((p, i) => (Ordinal: start + i, Pod: p)).Where(m => m.Pod is not null).Select(m => (m.Ordinal, Pod: m.Pod!)).Concat(condemned).ToList();
        var status = Status(set, members.Select(m => m.Pod), minReadySeconds, currentRevision, updateRevision, now);
        var requeue = NextAvailabilityCheck(members.Select(m => m.Pod), minReadySeconds, now);
        if (set.Metadata?.DeletionTimestamp is not null)
        {
            return new StatefulSetPlan([], status, requeue);
        }

        var monotonic = (set.Spec?.PodManagementPolicy ?? OrderedReady) != Parallel;
        var actions = new List<StatefulSetAction>();
        var firstUnhealthy = members.FirstOrDefault(m => !IsHealthy(m.Pod, minReadySeconds, now)).Pod;
        var rolling = (set.Spec?.UpdateStrategy?.Type ?? RollingUpdate) == RollingUpdate;
        var partition = rolling ? Math.Max(set.Spec?.UpdateStrategy?.RollingUpdate?.Partition ?? 0, 0) : 0;

        for (var i = 0; i < replicaCount; i++)
        {
            var ordinal = start + i;
            var pod = replicas[i];
            if (pod is not null && PodReadiness.IsTerminated(pod) && pod.Metadata?.DeletionTimestamp is null)
            {
                actions.Add(new StatefulSetAction(StatefulSetActionKind.Recreate, ordinal, pod));
                if (monotonic)
                {
                    return new StatefulSetPlan(actions, status, requeue);
                }

                continue;
            }

            if (pod is null)
            {
                // Below the partition a rolling update keeps the current revision, also for pods created anew.
                var current = rolling && i < partition;
                actions.Add(new StatefulSetAction(
                    StatefulSetActionKind.Create,
                    ordinal,
                    StatefulPodIdentity.NewPod(set, current ? currentTemplate : updateTemplate, current ? currentRevision : updateRevision, ordinal)));
                if (monotonic)
                {
                    return new StatefulSetPlan(actions, status, requeue);
                }

                continue;
            }

            if (monotonic && (pod.Metadata?.DeletionTimestamp is not null || !IsHealthy(pod, minReadySeconds, now)))
            {
                return new StatefulSetPlan(actions, status, requeue);
            }
        }

        for (var c = condemned.Count - 1; c >= 0; c--)
        {
            var (ordinal, pod) = condemned[c];
            if (pod.Metadata?.DeletionTimestamp is not null)
            {
                if (monotonic)
                {
                    return new StatefulSetPlan(actions, status, requeue);
                }

                continue;
            }

            if (monotonic && !IsHealthy(pod, minReadySeconds, now) && !ReferenceEquals(pod, firstUnhealthy))
            {
                return new StatefulSetPlan(actions, status, requeue);
            }

            actions.Add(new StatefulSetAction(StatefulSetActionKind.Delete, ordinal, pod));
            if (monotonic)
            {
                return new StatefulSetPlan(actions, status, requeue);
            }
        }

        if (!rolling || (!monotonic && actions.Count > 0))
        {
            return new StatefulSetPlan(actions, status, requeue);
        }

        var maxUnavailable = MaxUnavailable(set, replicaCount);
        var unavailable = replicas.Count(p => p is null || !IsHealthy(p, minReadySeconds, now));
        var budget = maxUnavailable - unavailable;
        for (var i = replicaCount - 1; i >= partition && budget > 0; i--)
        {
            var pod = replicas[i];
            if (pod is not null && pod.Metadata?.DeletionTimestamp is null && StatefulPodIdentity.Revision(pod) != updateRevision)
            {
                actions.Add(new StatefulSetAction(StatefulSetActionKind.Delete, start + i, pod));
                budget--;
            }
        }

        return new StatefulSetPlan(actions, status, requeue);
    }

    /// <summary>maxUnavailable of the rolling update against the replica count (rounded down, at least one).</summary>
    public static int MaxUnavailable(StatefulSet set, int replicas)
    {
        IntOrString value = set.Spec?.UpdateStrategy?.RollingUpdate?.MaxUnavailable ?? 1;
        return Math.Max(value.GetScaledValueFromIntOrPercent(replicas, roundUp: false), 1);
    }

    public static bool IsRunningAndReady(Pod pod) => pod.Status?.Phase == "Running" && PodReadiness.IsReady(pod);

    public static bool IsHealthy(Pod pod, int minReadySeconds, DateTimeOffset now) =>
        pod.Metadata?.DeletionTimestamp is null && IsRunningAndReady(pod) && PodReadiness.IsAvailable(pod, minReadySeconds, now);

    /// <summary>The status counts of the member pods; a finished rolling update makes the update revision current.</summary>
    public static StatefulSetStatus Status(StatefulSet set, IEnumerable<Pod> members, int minReadySeconds, string currentRevision, string updateRevision, DateTimeOffset now)
    {
        int replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
        foreach (var pod in members)
        {
            replicas++;
            if (IsRunningAndReady(pod))
            {
                ready++;
                if (PodReadiness.IsAvailable(pod, minReadySeconds, now))
                {
                    available++;
                }
            }

            if (pod.Metadata?.DeletionTimestamp is null)
            {
                var revision = StatefulPodIdentity.Revision(pod);
                if (revision == currentRevision)
                {
                    current++;
                }

                if (revision == updateRevision)
                {
                    updated++;
                }
            }
        }

        var status = new StatefulSetStatus
        {
            ObservedGeneration = set.Metadata?.Generation,
            Replicas = replicas,
            ReadyReplicas = ready,
            AvailableReplicas = available,
            CurrentReplicas = current,
            UpdatedReplicas = updated,
            CurrentRevision = currentRevision,
            UpdateRevision = updateRevision,
            CollisionCount = set.Status?.CollisionCount,
            Conditions = set.Status?.Conditions,
        };
        if ((set.Spec?.UpdateStrategy?.Type ?? RollingUpdate) == RollingUpdate && updated == replicas && ready == replicas)
        {
            status.CurrentReplicas = updated;
            status.CurrentRevision = updateRevision;
        }

        return status;
    }

    private static TimeSpan? NextAvailabilityCheck(IEnumerable<Pod> pods, int minReadySeconds, DateTimeOffset now)
    {
        if (minReadySeconds <= 0)
        {
            return null;
        }

        TimeSpan? earliest = null;
        foreach (var pod in pods)
        {
            if (IsRunningAndReady(pod) && PodReadiness.AvailableAt(pod, minReadySeconds) is { } at && at >= now)
            {
                var wait = at - now + TimeSpan.FromSeconds(1);
                earliest = earliest is null || wait < earliest ? wait : earliest;
            }
        }

        return earliest;
    }
}
