using Kubesharp.Api.Core.V1;
using Kubesharp.Client;
using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Queue;

/// <summary>
/// Which cluster events may change a parked pod's verdict, as upstream decides them: node changes to what the
/// filters read (not heartbeats), pod changes outside status and bookkeeping, placements that affinity or spread
/// constraints of other pods count.
/// </summary>
public static class SchedulingEvents
{
    public static bool NodeSchedulingPropertiesChanged(Node old, Node node)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(node);
        return !SameJson(old.Spec, node.Spec)
            || !SameMap(old.Metadata?.Labels, node.Metadata?.Labels)
            || !SameJson(old.Status?.Allocatable, node.Status?.Allocatable)
            || !SameConditions(old.Status?.Conditions, node.Status?.Conditions);
    }

    public static bool PodSchedulingPropertiesChanged(Pod old, Pod pod)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(pod);
        return !SameJson(old.Spec, pod.Spec)
            || !SameMap(old.Metadata?.Labels, pod.Metadata?.Labels)
            || !SameMap(WithoutVerdict(old.Metadata?.Annotations), WithoutVerdict(pod.Metadata?.Annotations));
    }

    public static bool MayBeHelpedByAssignedPod(PodInfo pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return pod.RequiredAffinity.Count > 0 || pod.Pod.Spec?.TopologySpreadConstraints is { Count: > 0 };
    }

    private static Dictionary<string, string>? WithoutVerdict(Dictionary<string, string>? annotations)
    {
        if (annotations is null || !annotations.ContainsKey(SchedulingVerdict.AnnotationKey))
        {
            return annotations;
        }

        var copy = new Dictionary<string, string>(annotations, StringComparer.Ordinal);
        copy.Remove(SchedulingVerdict.AnnotationKey);
        return copy;
    }

    private static bool SameMap(Dictionary<string, string>? a, Dictionary<string, string>? b)
    {
        if ((a?.Count ?? 0) != (b?.Count ?? 0))
        {
            return false;
        }

        if (a is null || b is null)
        {
            return true;
        }

        foreach (var (key, value) in a)
        {
            if (!b.TryGetValue(key, out var other) || !string.Equals(value, other, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Type and status only: heartbeat and transition times change without changing what fits.</summary>
    private static bool SameConditions(List<NodeCondition>? a, List<NodeCondition>? b)
    {
        static string Key(List<NodeCondition>? conditions) =>
            string.Join(';', (conditions ?? []).Select(c => c.Type + "=" + c.Status).Order(StringComparer.Ordinal));
        return string.Equals(Key(a), Key(b), StringComparison.Ordinal);
    }

    private static bool SameJson<T>(T? a, T? b)
        where T : class
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a is null || b is null)
        {
            return false;
        }

        return KubernetesJson.Serialize(a).AsSpan().SequenceEqual(KubernetesJson.Serialize(b));
    }
}
