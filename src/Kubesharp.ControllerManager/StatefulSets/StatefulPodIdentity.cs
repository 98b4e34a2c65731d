using System.Globalization;
using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.ControllerRevisions;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;

namespace Kubesharp.ControllerManager.StatefulSets;

/// <summary>
/// The stable identity of a StatefulSet's pods: the name <c>SET-ORDINAL</c>, the pod-name and pod-index labels,
/// hostname and subdomain, and one PersistentVolumeClaim per volumeClaimTemplate named <c>CLAIM-SET-ORDINAL</c>.
/// </summary>
internal static class StatefulPodIdentity
{
    public const string PodNameLabel = "statefulset.kubernetes.io/pod-name";
    public const string PodIndexLabel = "apps.kubernetes.io/pod-index";

    public static int StartOrdinal(StatefulSet set) => set.Spec?.Ordinals?.Start ?? 0;

    public static int Replicas(StatefulSet set) => set.Spec?.Replicas ?? 1;

    public static string PodName(StatefulSet set, int ordinal) =>
        set.Metadata?.Name + "-" + ordinal.ToString(CultureInfo.InvariantCulture);

    /// <summary>The ordinal of a pod named <c>PARENT-N</c> whose parent is the set, or -1.</summary>
    public static int Ordinal(StatefulSet set, Pod pod)
    {
        var name = pod.Metadata?.Name ?? string.Empty;
        var dash = name.LastIndexOf('-');
        if (dash <= 0 || name[..dash] != set.Metadata?.Name || dash == name.Length - 1)
        {
            return -1;
        }

        var digits = name.AsSpan(dash + 1);
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return -1;
            }
        }

        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var ordinal) ? ordinal : -1;
    }

    public static bool InRange(StatefulSet set, int ordinal) =>
        ordinal >= StartOrdinal(set) && ordinal < StartOrdinal(set) + Replicas(set);

    public static string? Revision(Pod pod) =>
        pod.Metadata?.Labels?.GetValueOrDefault(ControllerRevisionHistory.HashLabel);

    public static string ClaimName(StatefulSet set, string templateName, int ordinal) =>
        templateName + "-" + PodName(set, ordinal);

    /// <summary>The pod of <paramref name="ordinal"/> from <paramref name="template"/> (the template of <paramref name="revision"/>).</summary>
    public static Pod NewPod(StatefulSet set, PodTemplateSpec? template, string revision, int ordinal)
    {
        var meta = set.Metadata ?? new ObjectMeta();
        var name = PodName(set, ordinal);
        var templateMeta = template?.Metadata;
        var labels = templateMeta?.Labels is { } templateLabels ? new Dictionary<string, string>(templateLabels) : [];
        labels[PodNameLabel] = name;
        labels[PodIndexLabel] = ordinal.ToString(CultureInfo.InvariantCulture);
        labels[ControllerRevisionHistory.HashLabel] = revision;
        var spec = template?.Spec is { } templateSpec ? ObjectCopy.Clone(templateSpec) : new PodSpec();
        spec.Hostname = name;
        spec.Subdomain = string.IsNullOrEmpty(set.Spec?.ServiceName) ? null : set.Spec.ServiceName;
        var claims = set.Spec?.VolumeClaimTemplates ?? [];
        if (claims.Count > 0)
        {
            var claimNames = claims.Select(c => c.Metadata?.Name ?? string.Empty).ToHashSet(StringComparer.Ordinal);
            var volumes = claims.Select(c => new Volume
            {
                Name = c.Metadata?.Name,
                PersistentVolumeClaim = new PersistentVolumeClaimVolumeSource { ClaimName = ClaimName(set, c.Metadata?.Name ?? string.Empty, ordinal) },
            }).ToList();
            volumes.AddRange((spec.Volumes ?? []).Where(v => !claimNames.Contains(v.Name ?? string.Empty)));
            spec.Volumes = volumes;
        }

        return new Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new ObjectMeta
            {
                Name = name,
                GenerateName = meta.Name + "-",
                Namespace = meta.Namespace,
                Labels = labels,
                Annotations = templateMeta?.Annotations is { } annotations ? new Dictionary<string, string>(annotations) : null,
                Finalizers = templateMeta?.Finalizers is { } finalizers ? [.. finalizers] : null,
                OwnerReferences = [ControllerRef.New(StatefulSet.KubeApiVersion, StatefulSet.KubeKind, meta)],
            },
            Spec = spec,
        };
    }

    /// <summary>The claims of <paramref name="ordinal"/>: each template named for the pod, labelled with the set's matchLabels.</summary>
    public static List<PersistentVolumeClaim> Claims(StatefulSet set, int ordinal)
    {
        var claims = new List<PersistentVolumeClaim>();
        foreach (var template in set.Spec?.VolumeClaimTemplates ?? [])
        {
            var claim = ObjectCopy.Clone(template);
            claim.ApiVersion = "v1";
            claim.Kind = "PersistentVolumeClaim";
            claim.Status = null;
            claim.Metadata ??= new ObjectMeta();
            claim.Metadata.Name = ClaimName(set, template.Metadata?.Name ?? string.Empty, ordinal);
            claim.Metadata.Namespace = set.Metadata?.Namespace;
            claim.Metadata.Labels ??= [];
            foreach (var (key, value) in set.Spec?.Selector?.MatchLabels ?? [])
            {
                claim.Metadata.Labels[key] = value;
            }

            claims.Add(claim);
        }

        return claims;
    }
}
