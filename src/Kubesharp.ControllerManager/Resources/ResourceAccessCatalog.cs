using Kubesharp.Api;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.Resources;

/// <summary>
/// The resources of the catalog in their group's preferred version, each paired with the generated type that
/// serves it, so cross-resource controllers reach every kind through the typed client.
/// </summary>
internal sealed class ResourceAccessCatalog
{
    public ResourceAccessCatalog(KubernetesClient client)
    {
        var all = new List<ResourceAccess>();
        foreach (var resource in ApiCatalog.Resources)
        {
            if (!ApiCatalog.PreferredVersions.TryGetValue(resource.Group, out var preferred) || preferred != resource.Version ||
                !resource.Verbs.Contains("list") || TypedResourceAccesses.Create(client, resource) is not { } access)
            {
                continue;
            }

            all.Add(access);
        }

        All = all;
    }

    public IReadOnlyList<ResourceAccess> All { get; }
}
