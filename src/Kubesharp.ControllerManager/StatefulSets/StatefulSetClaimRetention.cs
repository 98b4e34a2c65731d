using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.Ownership;

namespace Kubesharp.ControllerManager.StatefulSets;

/// <summary>
/// The owner references <c>persistentVolumeClaimRetentionPolicy</c> asks for on a pod's claims, which the garbage
/// collector then acts on: whenDeleted=Delete makes the set an owner (the claim goes with the set); whenScaled=Delete
/// makes the pod of a condemned ordinal the owner instead (the claim goes with that pod). Retain removes them.
/// </summary>
internal static class StatefulSetClaimRetention
{
    public const string Retain = "Retain";
    public const string Delete = "Delete";

    /// <summary>The claim's owner references as the policy wants them, or null when they already are.</summary>
    public static List<OwnerReference>? DesiredOwners(StatefulSet set, PersistentVolumeClaim claim, Pod pod, bool condemned)
    {
        var policy = set.Spec?.PersistentVolumeClaimRetentionPolicy;
        var whenDeleted = policy?.WhenDeleted ?? Retain;
        var whenScaled = policy?.WhenScaled ?? Retain;
        var podOwns = whenScaled == Delete && condemned;
        var setOwns = whenDeleted == Delete && !podOwns;
        var setUid = set.Metadata?.Uid;
        var podUid = pod.Metadata?.Uid;
        var existing = claim.Metadata?.OwnerReferences ?? [];
        var hasSet = existing.Any(r => r.Uid == setUid);
        var hasPod = existing.Any(r => r.Uid == podUid);
        if (hasSet == setOwns && hasPod == podOwns)
        {
            return null;
        }

        var owners = existing.Where(r => r.Uid != setUid && r.Uid != podUid).ToList();
        if (setOwns)
        {
            owners.Add(ControllerRef.New(StatefulSet.KubeApiVersion, StatefulSet.KubeKind, set.Metadata!));
        }

        if (podOwns)
        {
            owners.Add(new OwnerReference { ApiVersion = "v1", Kind = "Pod", Name = pod.Metadata?.Name, Uid = podUid });
        }

        return owners;
    }
}
