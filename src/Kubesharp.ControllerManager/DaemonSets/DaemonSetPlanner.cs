using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ControllerManager.Pods;

namespace Kubesharp.ControllerManager.DaemonSets;

/// <summary>
/// Plans a DaemonSet sync as upstream's DaemonSet controller does it: one pod on every node that should run it,
/// none elsewhere (pods on nodes whose taints they no longer tolerate with NoExecute go; NoSchedule lets them stay),
/// failed pods replaced; then a RollingUpdate replaces old pods within maxUnavailable, or with maxSurge starts the
/// new pod beside the old one and deletes the old one once the new one is available. OnDelete replaces nothing.
/// </summary>
internal static class DaemonSetPlanner
{
    public const string RollingUpdate = "RollingUpdate";
    public const string OnDelete = "OnDelete";

    /// <param name="podsByNode">The DaemonSet's pods keyed by the node they are bound or pinned to.</param>
    public static DaemonSetPlan Plan(DaemonSet daemonSet, IReadOnlyList<Node> nodes, IReadOnlyDictionary<string, List<Pod>> podsByNode, string hash, DateTimeOffset now)
    {
        var minReadySeconds = daemonSet.Spec?.MinReadySeconds ?? 0;
        var generation = DaemonPodTemplate.TemplateGeneration(daemonSet);
        var create = new List<string>();
        var delete = new List<Pod>();
        var failed = new List<(string, Pod)>();
        var placements = nodes.ToDictionary(n => n.Metadata!.Name!, n => DaemonSetPlacement.Evaluate(daemonSet, n), StringComparer.Ordinal);
        var surge = AllowsSurge(daemonSet);
        foreach (var node in nodes)
        {
            var name = node.Metadata!.Name!;
            var (shouldRun, shouldContinue) = placements[name];
            var pods = podsByNode.GetValueOrDefault(name) ?? [];
            if (shouldRun && pods.Count == 0)
            {
                create.Add(name);
                continue;
            }

            if (shouldContinue)
            {
                var running = new List<Pod>();
                foreach (var pod in pods.Where(p => p.Metadata?.DeletionTimestamp is null))
                {
                    if (pod.Status?.Phase == "Failed")
                    {
                        failed.Add((name, pod));
                    }
                    else if (pod.Status?.Phase == "Succeeded")
                    {
                        delete.Add(pod);
                    }
                    else
                    {
                        running.Add(pod);
                    }
                }

                if (running.Count <= 1)
                {
                    continue;
                }

                running.Sort(OldestFirst);
                if (!surge)
                {
                    delete.AddRange(running.Skip(1));
                    continue;
                }

                // While surging two pods may share a node: the oldest new one and the oldest old one.
                Pod? oldestNew = null, oldestOld = null;
                foreach (var pod in running)
                {
                    if (DaemonPodTemplate.IsUpdated(pod, hash, generation))
                    {
                        if (oldestNew is null)
                        {
                            oldestNew = pod;
                            continue;
                        }
                    }
                    else if (oldestOld is null)
                    {
                        oldestOld = pod;
                        continue;
                    }

                    delete.Add(pod);
                }

                if (oldestNew is not null && oldestOld is not null &&
                    (!PodReadiness.IsReady(oldestOld) || PodReadiness.IsAvailable(oldestNew, minReadySeconds, now)))
                {
                    delete.Add(oldestOld);
                }
            }
            else
            {
                delete.AddRange(pods.Where(p => p.Metadata?.DeletionTimestamp is null));
            }
        }

        var status = Status(daemonSet, nodes, placements, podsByNode, hash, now);
        var requeue = NextAvailabilityCheck(podsByNode.Values.SelectMany(p => p), minReadySeconds, now);
        if ((daemonSet.Spec?.UpdateStrategy?.Type ?? RollingUpdate) == RollingUpdate)
        {
            var desired = status.DesiredNumberScheduled ?? 0;
            var wanted = nodes.Select(n => n.Metadata!.Name!).Where(n => placements[n].ShouldRun);
            var considered = podsByNode.Keys.Union(wanted, StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToList();
            var (maxSurge, maxUnavailable) = Budget(daemonSet, desired);
            if (maxSurge == 0)
            {
                delete.AddRange(RollWithoutSurge(considered, podsByNode, hash, generation, maxUnavailable, minReadySeconds, now).Except(delete));
            }
            else
            {
                var (nodesForNew, oldToDelete) = RollWithSurge(considered, podsByNode, placements, hash, generation, maxSurge, minReadySeconds, now);
                create.AddRange(nodesForNew.Except(create, StringComparer.Ordinal));
                delete.AddRange(oldToDelete.Except(delete));
            }
        }

        return new DaemonSetPlan(create, delete, failed, status, requeue);
    }

    public static bool AllowsSurge(DaemonSet daemonSet) =>
        (daemonSet.Spec?.UpdateStrategy?.Type ?? RollingUpdate) == RollingUpdate &&
        daemonSet.Spec?.UpdateStrategy?.RollingUpdate?.MaxSurge is { } surge &&
        surge.GetScaledValueFromIntOrPercent(1, roundUp: true) > 0;

    /// <summary>maxSurge and maxUnavailable against the desired count, rounded up; never both zero.</summary>
    public static (int MaxSurge, int MaxUnavailable) Budget(DaemonSet daemonSet, int desired)
    {
        var rolling = daemonSet.Spec?.UpdateStrategy?.RollingUpdate;
        IntOrString unavailableValue = rolling?.MaxUnavailable ?? 1;
        IntOrString surgeValue = rolling?.MaxSurge ?? 0;
        var unavailable = unavailableValue.GetScaledValueFromIntOrPercent(desired, roundUp: true);
        var surge = surgeValue.GetScaledValueFromIntOrPercent(desired, roundUp: true);
        if (desired > 0 && unavailable == 0 && surge == 0)
        {
            unavailable = 1;
        }

        return (surge, unavailable);
    }

    /// <summary>The new and the old pod on a node (terminating ones ignored); not ok when either is doubled.</summary>
    public static (Pod? New, Pod? Old, bool Ok) UpdatedPodsOnNode(IEnumerable<Pod> pods, string hash, long? generation)
    {
        Pod? updated = null, old = null;
        foreach (var pod in pods.Where(p => p.Metadata?.DeletionTimestamp is null))
        {
            if (DaemonPodTemplate.IsUpdated(pod, hash, generation))
            {
                if (updated is not null)
                {
                    return (null, null, false);
                }

                updated = pod;
            }
            else
            {
                if (old is not null)
                {
                    return (null, null, false);
                }

                old = pod;
            }
        }

        return (updated, old, true);
    }

    private static List<Pod> RollWithoutSurge(List<string> nodes, IReadOnlyDictionary<string, List<Pod>> podsByNode, string hash, long? generation, int maxUnavailable, int minReadySeconds, DateTimeOffset now)
    {
        var unavailable = 0;
        var replaceNow = new List<Pod>();
        var candidates = new List<Pod>();
        foreach (var node in nodes)
        {
            var (updated, old, ok) = UpdatedPodsOnNode(podsByNode.GetValueOrDefault(node) ?? [], hash, generation);
            if (!ok || (updated is null) == (old is null))
            {
                // Doubled, missing, or both: the placement pass deals with it; it counts as unavailable meanwhile.
                unavailable++;
            }
            else if (updated is not null)
            {
                if (!PodReadiness.IsAvailable(updated, minReadySeconds, now))
                {
                    unavailable++;
                }
            }
            else if (!PodReadiness.IsAvailable(old!, minReadySeconds, now))
            {
                replaceNow.Add(old!);
            }
            else if (unavailable < maxUnavailable)
            {
                candidates.Add(old!);
            }
        }

        var remaining = Math.Clamp(maxUnavailable - unavailable, 0, candidates.Count);
        return [.. replaceNow, .. candidates.Take(remaining)];
    }

    private static (List<string> NodesForNew, List<Pod> OldToDelete) RollWithSurge(
        List<string> nodes, IReadOnlyDictionary<string, List<Pod>> podsByNode, Dictionary<string, (bool ShouldRun, bool ShouldContinueRunning)> placements,
        string hash, long? generation, int maxSurge, int minReadySeconds, DateTimeOffset now)
    {
        var surged = 0;
        var oldToDelete = new List<Pod>();
        var allowed = new List<string>();
        var candidates = new List<string>();
        foreach (var node in nodes)
        {
            var (updated, old, ok) = UpdatedPodsOnNode(podsByNode.GetValueOrDefault(node) ?? [], hash, generation);
            if (!ok)
            {
                surged++;
                continue;
            }

            if (old is null)
            {
                continue;
            }

            if (updated is null)
            {
                if (!PodReadiness.IsAvailable(old, minReadySeconds, now))
                {
                    if (placements.TryGetValue(node, out var placement) && placement.ShouldRun)
                    {
                        allowed.Add(node);
                    }
                    else
                    {
                        oldToDelete.Add(old);
                    }
                }
                else if (surged < maxSurge)
                {
                    candidates.Add(node);
                }

                continue;
            }

            if (!PodReadiness.IsAvailable(updated, minReadySeconds, now))
            {
                surged++;
                continue;
            }

            oldToDelete.Add(old);
        }

        var remaining = Math.Clamp(maxSurge - surged, 0, candidates.Count);
        return ([.. allowed, .. candidates.Take(remaining)], oldToDelete);
    }

    /// <summary>The status as upstream counts it, over the nodes that exist (oldest pod per node).</summary>
    public static DaemonSetStatus Status(
        DaemonSet daemonSet, IReadOnlyList<Node> nodes, Dictionary<string, (bool ShouldRun, bool ShouldContinueRunning)> placements,
        IReadOnlyDictionary<string, List<Pod>> podsByNode, string hash, DateTimeOffset now)
    {
        var minReadySeconds = daemonSet.Spec?.MinReadySeconds ?? 0;
        var generation = DaemonPodTemplate.TemplateGeneration(daemonSet);
        int desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
        foreach (var node in nodes)
        {
            var name = node.Metadata!.Name!;
            var pods = podsByNode.GetValueOrDefault(name) ?? [];
            var scheduled = pods.Count > 0;
            if (!placements[name].ShouldRun)
            {
                misscheduled += scheduled ? 1 : 0;
                continue;
            }

            desired++;
            if (!scheduled)
            {
                continue;
            }

            current++;
            var pod = pods.OrderBy(p => p, Comparer<Pod>.Create(OldestFirst)).First();
            if (PodReadiness.IsReady(pod))
            {
                ready++;
                if (PodReadiness.IsAvailable(pod, minReadySeconds, now))
                {
                    available++;
                }
            }

            if (DaemonPodTemplate.IsUpdated(pod, hash, generation))
            {
                updated++;
            }
        }

        return new DaemonSetStatus
        {
            ObservedGeneration = daemonSet.Metadata?.Generation,
            DesiredNumberScheduled = desired,
            CurrentNumberScheduled = current,
            NumberMisscheduled = misscheduled,
            NumberReady = ready,
            NumberAvailable = available,
            NumberUnavailable = desired - available,
            UpdatedNumberScheduled = updated,
            CollisionCount = daemonSet.Status?.CollisionCount,
            Conditions = daemonSet.Status?.Conditions,
        };
    }

    /// <summary>Oldest first, then by name, so every sync keeps the same pod.</summary>
    private static int OldestFirst(Pod a, Pod b)
    {
        var byTime = Nullable.Compare(a.Metadata?.CreationTimestamp, b.Metadata?.CreationTimestamp);
        if (byTime != 0)
        {
            return byTime;
        }

        return string.CompareOrdinal(a.Metadata?.Name, b.Metadata?.Name);
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
            if (PodReadiness.AvailableAt(pod, minReadySeconds) is { } at && at >= now)
            {
                var wait = at - now + TimeSpan.FromSeconds(1);
                earliest = earliest is null || wait < earliest ? wait : earliest;
            }
        }

        return earliest;
    }
}
