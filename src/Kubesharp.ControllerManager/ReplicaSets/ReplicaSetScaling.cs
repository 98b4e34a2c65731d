using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;
using Kubesharp.ControllerManager.Pods;

namespace Kubesharp.ControllerManager.ReplicaSets;

/// <summary>How many pods a ReplicaSet must create, or which pods it must delete, to match its replicas.</summary>
internal static class ReplicaSetScaling
{
    /// <summary>At most this many creations or deletions per reconcile, as upstream's burst limit.</summary>
    public const int BurstReplicas = 500;

    public static (int Create, IReadOnlyList<Pod> Delete) Plan(ReplicaSet replicaSet, IReadOnlyList<Pod> activePods, IReadOnlyList<Pod> relatedPods)
    {
        var desired = replicaSet.Spec?.Replicas ?? 1;
        var diff = activePods.Count - desired;
        if (diff < 0)
        {
            return (Math.Min(-diff, BurstReplicas), []);
        }

        if (diff > 0)
        {
            return (0, PodDeletionOrder.Select(activePods, relatedPods, Math.Min(diff, BurstReplicas)));
        }

        return (0, []);
    }

    /// <summary>A new pod from the ReplicaSet's template, named after it and controlled by it (or by the kind it stands for).</summary>
    public static Pod NewPod(ReplicaSet replicaSet, string ownerApiVersion = ReplicaSet.KubeApiVersion, string ownerKind = ReplicaSet.KubeKind)
    {
        var template = replicaSet.Spec?.Template ?? new PodTemplateSpec();
        var meta = replicaSet.Metadata ?? new ObjectMeta();
        var templateMeta = template.Metadata;
        return new Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new ObjectMeta
            {
                GenerateName = meta.Name + "-",
                Namespace = meta.Namespace,
                Labels = templateMeta?.Labels is { } labels ? new Dictionary<string, string>(labels) : null,
                Annotations = templateMeta?.Annotations is { } annotations ? new Dictionary<string, string>(annotations) : null,
                Finalizers = templateMeta?.Finalizers is { } finalizers ? [.. finalizers] : null,
                OwnerReferences = [ControllerRef.New(ownerApiVersion, ownerKind, meta)],
            },
            Spec = template.Spec is { } spec ? ObjectCopy.Clone(spec) : new PodSpec(),
        };
    }

    /// <summary>Batches of 1, 2, 4, … so that a systematic failure (quota, admission) costs one call, not hundreds.</summary>
    public static IEnumerable<int> SlowStartBatches(int total)
    {
        var batch = 1;
        var remaining = total;
        while (remaining > 0)
        {
            var size = Math.Min(batch, remaining);
            yield return size;
            remaining -= size;
            batch *= 2;
        }
    }
}
