using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Plugins;

/// <summary>
/// Upstream's VolumeBinding filter: a pod's claims must exist; unbound claims of a class that binds at once keep it
/// pending; bound volumes' node affinity must admit the node; claims that wait for their first consumer need a
/// volume that fits on the node or a class that provisions. Once a node is chosen the scheduler names it on those
/// claims (<see cref="DelayedClaims"/>). Reasons are upstream's; the verdict's detail names the claims.
/// </summary>
public sealed class VolumeBindingPlugin(IVolumeLookup lookup) : IFilterPlugin
{
    private const string StateKey = "VolumeBinding";

    public string Name => "VolumeBinding";

    public FilterResult PreFilter(CycleState state, PodInfo pod, ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(pod);
        var names = ClaimNames(pod.Pod);
        if (names.Count == 0)
        {
            return FilterResult.Skip;
        }

        var ns = pod.Namespace;
        var claims = new PodClaims();
        var immediate = new List<string>();
        foreach (var name in names)
        {
            if (lookup.Claim(ns, name) is not { } claim)
            {
                return FilterResult.Unresolvable($"persistentvolumeclaim \"{name}\" not found");
            }

            if (claim.Metadata?.DeletionTimestamp is not null)
            {
                return FilterResult.Unresolvable($"persistentvolumeclaim \"{name}\" is being deleted");
            }

            if (claim.Spec?.VolumeName is { Length: > 0 } volumeName)
            {
                if (lookup.Volume(volumeName) is not { } volume)
                {
                    return FilterResult.Unresolvable("pvc(s) bound to non-existent pv(s)") with { Detail = "claims: " + name };
                }

                claims.Bound.Add(volume);
                continue;
            }

            var storageClass = lookup.Class(claim.Spec?.StorageClassName ?? "");
            if (storageClass?.VolumeBindingMode != VolumeAnnotations.WaitForFirstConsumer)
            {
                immediate.Add(name);
                continue;
            }

            claims.Delayed.Add((claim, storageClass.Provisioner is { Length: > 0 } p && p != VolumeAnnotations.NoProvisioner));
        }

        if (immediate.Count > 0)
        {
            return FilterResult.Unresolvable("pod has unbound immediate PersistentVolumeClaims") with { Detail = "claims: " + string.Join(", ", immediate) };
        }

        claims.Volumes = claims.Delayed.Count > 0 ? lookup.Volumes() : [];
        state.Write(StateKey, claims);
        return FilterResult.Success;
    }

    public FilterResult Filter(CycleState state, PodInfo pod, NodeInfo node)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(node);
        if (state.Read<PodClaims>(StateKey) is not { } claims)
        {
            return FilterResult.Success;
        }

        foreach (var volume in claims.Bound)
        {
            if (!NodeAffinityAllows(volume, node))
            {
                return FilterResult.Unresolvable("node(s) had volume node affinity conflict") with { Detail = "volumes: " + volume.Metadata?.Name };
            }
        }

        foreach (var (claim, provisions) in claims.Delayed)
        {
            if (!provisions && !claims.Volumes.Any(v => Fits(claim, v, node)))
            {
                return FilterResult.Unresolvable("node(s) didn't find available persistent volumes to bind") with { Detail = "claims: " + claim.Metadata?.Name };
            }
        }

        return FilterResult.Success;
    }

    /// <summary>The pod's claims that wait for their first consumer and name no node yet: the scheduler annotates them with the chosen node.</summary>
    public IReadOnlyList<PersistentVolumeClaim> DelayedClaims(Pod pod, string nodeName)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var result = new List<PersistentVolumeClaim>();
        foreach (var name in ClaimNames(pod))
        {
            if (lookup.Claim(pod.Metadata?.Namespace ?? "default", name) is { } claim && string.IsNullOrEmpty(claim.Spec?.VolumeName)
                && claim.Metadata?.Annotations?.GetValueOrDefault(VolumeAnnotations.SelectedNode) != nodeName
                && lookup.Class(claim.Spec?.StorageClassName ?? "")?.VolumeBindingMode == VolumeAnnotations.WaitForFirstConsumer)
            {
                result.Add(claim);
            }
        }

        return result;
    }

    public static List<string> ClaimNames(Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var names = new List<string>();
        foreach (var volume in pod.Spec?.Volumes ?? [])
        {
            if (volume.PersistentVolumeClaim?.ClaimName is { Length: > 0 } name)
            {
                names.Add(name);
            }
        }

        return names;
    }

    private static bool NodeAffinityAllows(PersistentVolume volume, NodeInfo node) =>
        volume.Spec?.NodeAffinity?.Required?.NodeSelectorTerms is not { } terms || terms.Any(t => NodeAffinityPlugin.TermMatches(t, node));

    /// <summary>A free volume (or one pre-bound to the claim) of the claim's class and mode with its access modes, selector, size, on the node.</summary>
    private static bool Fits(PersistentVolumeClaim claim, PersistentVolume volume, NodeInfo node)
    {
        var spec = volume.Spec;
        if (spec is null || volume.Metadata?.DeletionTimestamp is not null || volume.Status?.Phase is "Released" or "Failed")
        {
            return false;
        }

        if (spec.ClaimRef is { } reference && (reference.Name != claim.Metadata?.Name || reference.Namespace != claim.Metadata?.Namespace))
        {
            return false;
        }

        var requested = claim.Spec?.Resources?.Requests?.GetValueOrDefault("storage") ?? Quantity.Zero;
        var capacity = spec.Capacity?.GetValueOrDefault("storage") ?? Quantity.Zero;
        var modes = spec.AccessModes ?? [];
        return (spec.StorageClassName ?? "") == (claim.Spec?.StorageClassName ?? "")
            && (spec.VolumeMode ?? "Filesystem") == (claim.Spec?.VolumeMode ?? "Filesystem")
            && (claim.Spec?.AccessModes ?? []).All(modes.Contains)
            && capacity >= requested
            && SelectorMatches(claim.Spec?.Selector, volume.Metadata?.Labels)
            && NodeAffinityAllows(volume, node);
    }

    private static bool SelectorMatches(ApiMachinery.Meta.V1.LabelSelector? selector, Dictionary<string, string>? labels)
    {
        if (selector is null)
        {
            return true;
        }

        foreach (var (key, value) in selector.MatchLabels ?? [])
        {
            if (labels is null || !labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        foreach (var expression in selector.MatchExpressions ?? [])
        {
            var has = labels is not null && labels.TryGetValue(expression.Key ?? "", out var actual) ? actual : null;
            var values = expression.Values ?? [];
            var ok = expression.Operator switch
            {
                "In" => has is not null && values.Contains(has),
                "NotIn" => has is null || !values.Contains(has),
                "Exists" => has is not null,
                "DoesNotExist" => has is null,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private sealed class PodClaims
    {
        public List<PersistentVolume> Bound { get; } = [];

        public List<(PersistentVolumeClaim Claim, bool Provisions)> Delayed { get; } = [];

        public IReadOnlyList<PersistentVolume> Volumes { get; set; } = [];
    }
}
