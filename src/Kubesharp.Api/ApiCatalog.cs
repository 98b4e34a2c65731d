using System.Collections.Frozen;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.Api;

/// <summary>
/// The REST resources of every GA group-version of the built-in API: scope, verbs and subresources as
/// derived from the reference spec's paths, plus the discovery facts the spec does not carry (short
/// names, categories, group order and preferred versions).
/// </summary>
public static partial class ApiCatalog
{
    // Discovery order of /apis as upstream serves it; groups not listed follow alphabetically.
    private static readonly string[] GroupOrder =
    [
        "", "apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
        "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io", "policy", "rbac.authorization.k8s.io",
        "storage.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io",
        "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io",
    ];

    private static readonly Dictionary<string, string[]> ShortNames = new(StringComparer.Ordinal)
    {
        ["componentstatuses"] = ["cs"],
        ["configmaps"] = ["cm"],
        ["endpoints"] = ["ep"],
        ["events"] = ["ev"],
        ["limitranges"] = ["limits"],
        ["namespaces"] = ["ns"],
        ["nodes"] = ["no"],
        ["persistentvolumeclaims"] = ["pvc"],
        ["persistentvolumes"] = ["pv"],
        ["pods"] = ["po"],
        ["replicationcontrollers"] = ["rc"],
        ["resourcequotas"] = ["quota"],
        ["serviceaccounts"] = ["sa"],
        ["services"] = ["svc"],
        ["daemonsets.apps"] = ["ds"],
        ["deployments.apps"] = ["deploy"],
        ["replicasets.apps"] = ["rs"],
        ["statefulsets.apps"] = ["sts"],
        ["horizontalpodautoscalers.autoscaling"] = ["hpa"],
        ["cronjobs.batch"] = ["cj"],
        ["certificatesigningrequests.certificates.k8s.io"] = ["csr"],
        ["events.events.k8s.io"] = ["ev"],
        ["ingresses.networking.k8s.io"] = ["ing"],
        ["networkpolicies.networking.k8s.io"] = ["netpol"],
        ["ipaddresses.networking.k8s.io"] = ["ip"],
        ["poddisruptionbudgets.policy"] = ["pdb"],
        ["priorityclasses.scheduling.k8s.io"] = ["pc"],
        ["storageclasses.storage.k8s.io"] = ["sc"],
        ["volumeattributesclasses.storage.k8s.io"] = ["vac"],
        ["customresourcedefinitions.apiextensions.k8s.io"] = ["crd", "crds"],
    };

    private static readonly HashSet<string> AllCategory = new(StringComparer.Ordinal)
    {
        "pods", "replicationcontrollers", "services", "daemonsets.apps", "deployments.apps", "replicasets.apps",
        "statefulsets.apps", "horizontalpodautoscalers.autoscaling", "cronjobs.batch", "jobs.batch",
    };

    private static readonly HashSet<string> ApiExtensionsCategory = new(StringComparer.Ordinal)
    {
        "apiservices.apiregistration.k8s.io", "customresourcedefinitions.apiextensions.k8s.io",
        "mutatingwebhookconfigurations.admissionregistration.k8s.io", "validatingwebhookconfigurations.admissionregistration.k8s.io",
        "validatingadmissionpolicies.admissionregistration.k8s.io", "validatingadmissionpolicybindings.admissionregistration.k8s.io",
        "mutatingadmissionpolicies.admissionregistration.k8s.io", "mutatingadmissionpolicybindings.admissionregistration.k8s.io",
    };

    /// <summary>Every resource of every GA group-version, in discovery order (group order, preferred version first, then by name).</summary>
    public static IReadOnlyList<ApiResource> Resources { get; } = Build();

    /// <summary>Every group with its versions, in discovery order (the core group "" first).</summary>
    public static IReadOnlyList<ApiGroupVersions> Groups { get; } = Resources
        .GroupBy(r => r.Group)
        .Select(g => new ApiGroupVersions(g.Key, g.Select(r => r.Version).Distinct().ToArray()))
        .ToArray();

    /// <summary>The preferred version of each group ("" → v1, autoscaling → v2).</summary>
    public static IReadOnlyDictionary<string, string> PreferredVersions { get; } =
        Groups.ToFrozenDictionary(g => g.Group, g => g.PreferredVersion, StringComparer.Ordinal);

    private static readonly FrozenDictionary<(string Group, string Version, string Resource), ApiResource> ByResource =
        Resources.ToFrozenDictionary(r => (r.Group, r.Version, r.Resource));

    private static readonly FrozenDictionary<GroupVersionKind, ApiResource> ByKind =
        Resources.GroupBy(r => new GroupVersionKind(r.Group, r.Version, r.Kind)).ToFrozenDictionary(g => g.Key, g => g.First());

    public static ApiResource? Find(string group, string version, string resource) =>
        ByResource.TryGetValue((group, version, resource), out var r) ? r : null;

    /// <summary>The resource serving a kind (for kinds served by several resources, the first in discovery order).</summary>
    public static ApiResource? FindByKind(GroupVersionKind kind) =>
        ByKind.TryGetValue(kind, out var r) ? r : null;

    private static ApiResource[] Build() => SpecResources()
        .Select(r =>
        {
            var categories = new List<string>();
            if (AllCategory.Contains(r.GroupResource))
            {
                categories.Add("all");
            }

            if (ApiExtensionsCategory.Contains(r.GroupResource))
            {
                categories.Add("api-extensions");
            }

            return r with
            {
                ShortNames = ShortNames.TryGetValue(r.GroupResource, out var shortNames) ? shortNames : [],
                Categories = categories,
            };
        })
        .OrderBy(r => GroupRank(r.Group))
        .ThenBy(r => r.Group, StringComparer.Ordinal)
        .ThenBy(r => VersionRank(r.Version))
        .ThenBy(r => r.Resource, StringComparer.Ordinal)
        .ToArray();

    private static int GroupRank(string group)
    {
        var index = Array.IndexOf(GroupOrder, group);
        return index < 0 ? GroupOrder.Length : index;
    }

    /// <summary>Kubernetes version priority among GA versions: higher majors first (v2 before v1).</summary>
    private static int VersionRank(string version) =>
        -int.Parse(version.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
}
