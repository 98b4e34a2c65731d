using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ControllerManager.Selection;

namespace Kubesharp.ControllerManager.Volumes;

/// <summary>
/// Which PersistentVolume a claim binds to, as upstream's binder chooses: same class, volume mode and (when a node
/// was selected) node affinity, every requested access mode, the claim's selector, enough capacity; a volume
/// pre-bound to the claim wins, then the smallest that fits.
/// </summary>
internal static class VolumeMatcher
{
    public static PersistentVolume? FindBest(PersistentVolumeClaim claim, IEnumerable<PersistentVolume> volumes, Node? selectedNode)
    {
        PersistentVolume? best = null;
        Quantity bestSize = default;
        foreach (var volume in volumes)
        {
            if (!Fits(claim, volume, selectedNode))
            {
                continue;
            }

            if (IsPreBoundTo(volume, claim))
            {
                return volume;
            }

            if (volume.Spec?.ClaimRef is not null)
            {
                continue;
            }

            var size = Capacity(volume);
            if (best is null || size < bestSize)
            {
                best = volume;
                bestSize = size;
            }
        }

        return best;
    }

    /// <summary>Whether the volume can serve the claim (ignoring who it is bound to).</summary>
    public static bool Fits(PersistentVolumeClaim claim, PersistentVolume volume, Node? selectedNode)
    {
        var spec = volume.Spec;
        if (spec is null || volume.Metadata?.DeletionTimestamp is not null || volume.Status?.Phase is "Released" or "Failed")
        {
            return false;
        }

        if ((spec.StorageClassName ?? string.Empty) != (claim.Spec?.StorageClassName ?? string.Empty))
        {
            return false;
        }

        if ((spec.VolumeMode ?? "Filesystem") != (claim.Spec?.VolumeMode ?? "Filesystem"))
        {
            return false;
        }

        var modes = spec.AccessModes ?? [];
        if ((claim.Spec?.AccessModes ?? []).Any(m => !modes.Contains(m)))
        {
            return false;
        }

        if (Requested(claim) is { } requested && Capacity(volume) < requested)
        {
            return false;
        }

        if (claim.Spec?.Selector is { } selector && !LabelSelectorEvaluator.Matches(selector, volume.Metadata?.Labels))
        {
            return false;
        }

        return selectedNode is null || NodeAffinityAllows(volume, selectedNode);
    }

    public static bool NodeAffinityAllows(PersistentVolume volume, Node node)
    {
        var terms = volume.Spec?.NodeAffinity?.Required?.NodeSelectorTerms;
        return terms is null || terms.Any(t => NodeSelectorEvaluator.TermMatches(t, node));
    }

    /// <summary>A volume whose claimRef names the claim (by namespace and name, and uid when it has one).</summary>
    public static bool IsPreBoundTo(PersistentVolume volume, PersistentVolumeClaim claim)
    {
        var reference = volume.Spec?.ClaimRef;
        return reference is not null
            && reference.Name == claim.Metadata?.Name
            && (reference.Namespace ?? "default") == (claim.Metadata?.Namespace ?? "default")
            && (string.IsNullOrEmpty(reference.Uid) || reference.Uid == claim.Metadata?.Uid);
    }

    public static Quantity? Requested(PersistentVolumeClaim claim) =>
        claim.Spec?.Resources?.Requests?.TryGetValue("storage", out var q) == true ? q : null;

    public static Quantity Capacity(PersistentVolume volume) =>
        volume.Spec?.Capacity?.TryGetValue("storage", out var q) == true ? q : Quantity.Zero;
}
