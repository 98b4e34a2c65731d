using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.Client.Informers;

/// <summary>
/// The metadata the informers of one process hold, shared across kinds and objects: the garbage collector reads every
/// object as metadata alone (<see cref="PartialObjectMetadata"/>), and at the same uid and resourceVersion it holds
/// the very metadata instance the pod informers hold; and objects with equal labels (the pods of one ReplicaSet)
/// hold one label set between them. Cached objects are read-only, so readers cannot tell.
/// </summary>
internal static class SharedObjectMetadata
{
    private static readonly VersionedObjectTable<ObjectMeta> Held = new();

    private static readonly LabelSetPool LabelSets = new(10);

    /// <summary>
    /// The instance to hold for <paramref name="meta"/>, which an informer decoded itself and shares with no one yet:
    /// one held already for the same version, else <paramref name="meta"/> with its labels shared.
    /// </summary>
    public static ObjectMeta Share(ObjectMeta meta)
    {
        if (meta is not { Uid: { Length: > 0 } uid, ResourceVersion: { Length: > 0 } version })
        {
            return meta;
        }

        if (meta.Labels is { Count: > 0 } labels)
        {
            meta.Labels = LabelSets.Share(labels);
        }

        return Held.Share(uid, meta.ManagedFields is null, version, meta);
    }
}
