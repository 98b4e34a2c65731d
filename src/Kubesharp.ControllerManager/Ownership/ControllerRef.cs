using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.ControllerManager.Ownership;

/// <summary>The controller owner reference: the single owner with controller=true.</summary>
internal static class ControllerRef
{
    public static OwnerReference? Of(ObjectMeta? meta) =>
        meta?.OwnerReferences?.FirstOrDefault(r => r.Controller == true);

    public static bool IsControlledBy(ObjectMeta? meta, string? ownerUid) =>
        ownerUid is not null && Of(meta)?.Uid == ownerUid;

    /// <summary>A reference that makes the owner the object's controller and holds back the owner's foreground deletion.</summary>
    public static OwnerReference New(string apiVersion, string kind, ObjectMeta owner) => new()
    {
        ApiVersion = apiVersion,
        Kind = kind,
        Name = owner.Name,
        Uid = owner.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };
}
