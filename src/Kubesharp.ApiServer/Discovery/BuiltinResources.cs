using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.ApiServer.Discovery;

/// <summary>
/// What discovery publishes beyond the schema: upstream's short names and categories of the built-in resources.
/// </summary>
public static class BuiltinResources
{
    private static readonly Dictionary<string, string[]> ShortNames = new(StringComparer.Ordinal)
    {
        ["pods"] = ["po"],
        ["services"] = ["svc"],
        ["namespaces"] = ["ns"],
        ["nodes"] = ["no"],
        ["configmaps"] = ["cm"],
        ["endpoints"] = ["ep"],
        ["events"] = ["ev"],
        ["limitranges"] = ["limits"],
        ["persistentvolumeclaims"] = ["pvc"],
        ["persistentvolumes"] = ["pv"],
        ["replicationcontrollers"] = ["rc"],
        ["resourcequotas"] = ["quota"],
        ["serviceaccounts"] = ["sa"],
        ["componentstatuses"] = ["cs"],
        ["deployments.apps"] = ["deploy"],
        ["replicasets.apps"] = ["rs"],
        ["statefulsets.apps"] = ["sts"],
        ["daemonsets.apps"] = ["ds"],
        ["cronjobs.batch"] = ["cj"],
        ["horizontalpodautoscalers.autoscaling"] = ["hpa"],
        ["ingresses.networking.k8s.io"] = ["ing"],
        ["networkpolicies.networking.k8s.io"] = ["netpol"],
        ["poddisruptionbudgets.policy"] = ["pdb"],
        ["priorityclasses.scheduling.k8s.io"] = ["pc"],
        ["storageclasses.storage.k8s.io"] = ["sc"],
        ["customresourcedefinitions.apiextensions.k8s.io"] = ["crd", "crds"],
        ["certificatesigningrequests.certificates.k8s.io"] = ["csr"],
        ["events.events.k8s.io"] = ["ev"],
    };

    private static readonly HashSet<string> AllCategory = new(StringComparer.Ordinal)
    {
        "pods", "services", "replicationcontrollers", "deployments.apps", "replicasets.apps", "statefulsets.apps", "daemonsets.apps",
        "jobs.batch", "cronjobs.batch", "horizontalpodautoscalers.autoscaling",
    };

    private static readonly HashSet<string> ApiExtensionsCategory = new(StringComparer.Ordinal)
    {
        "customresourcedefinitions.apiextensions.k8s.io", "mutatingwebhookconfigurations.admissionregistration.k8s.io",
        "validatingwebhookconfigurations.admissionregistration.k8s.io", "validatingadmissionpolicies.admissionregistration.k8s.io",
        "validatingadmissionpolicybindings.admissionregistration.k8s.io", "apiservices.apiregistration.k8s.io",
    };

    /// <summary>Fills in short names and categories where the catalog has none.</summary>
    public static IReadOnlyList<ApiResource> Complete(IReadOnlyList<ApiResource> resources) => resources.Select(r =>
    {
        var result = r;
        if (r.ShortNames.Count == 0 && ShortNames.TryGetValue(r.GroupResource, out var shortNames))
        {
            result = result with { ShortNames = shortNames };
        }

        if (r.Categories.Count == 0)
        {
            if (AllCategory.Contains(r.GroupResource))
            {
                result = result with { Categories = ["all"] };
            }
            else if (ApiExtensionsCategory.Contains(r.GroupResource))
            {
                result = result with { Categories = ["api-extensions"] };
            }
        }

        return result;
    }).ToList();
}
