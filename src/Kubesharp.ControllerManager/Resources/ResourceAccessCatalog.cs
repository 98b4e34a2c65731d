using System.Reflection;
using Kubesharp.Api;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Schema;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.Resources;

/// <summary>
/// The resources of the catalog in their group's preferred version, each paired with the generated type that
/// serves it, so cross-resource controllers reach every kind through the typed client.
/// </summary>
internal sealed class ResourceAccessCatalog
{
    private readonly Dictionary<(string Group, string Kind), ResourceAccess> byKind = [];

    public ResourceAccessCatalog(KubernetesClient client)
    {
        var types = typeof(ApiCatalog).Assembly.GetTypes()
            .Where(t => t.IsClass && typeof(IKubernetesKind).IsAssignableFrom(t) && typeof(IKubernetesObject).IsAssignableFrom(t))
            .GroupBy(KindOf).ToDictionary(g => g.Key, g => g.First());
        var all = new List<ResourceAccess>();
        foreach (var resource in ApiCatalog.Resources)
        {
            if (!ApiCatalog.PreferredVersions.TryGetValue(resource.Group, out var preferred) || preferred != resource.Version ||
                !types.TryGetValue(new GroupVersionKind(resource.Group, resource.Version, resource.Kind), out var type) ||
                !resource.Verbs.Contains("list"))
            {
                continue;
            }

            var access = (ResourceAccess)Activator.CreateInstance(typeof(TypedResourceAccess<>).MakeGenericType(type), client, resource)!;
            all.Add(access);
            byKind.TryAdd((resource.Group, resource.Kind), access);
        }

        All = all;
    }

    public IReadOnlyList<ResourceAccess> All { get; }

    /// <summary>The resource of an owner reference's apiVersion and kind (any version of the group).</summary>
    public ResourceAccess? ForKind(string? apiVersion, string? kind)
    {
        if (apiVersion is null || kind is null)
        {
            return null;
        }

        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var group = slash < 0 ? string.Empty : apiVersion[..slash];
        return byKind.GetValueOrDefault((group, kind));
    }

    private static GroupVersionKind KindOf(Type type)
    {
        static string Constant(Type t, string name) =>
            (string)(t.GetField(name, BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() ?? string.Empty);

        return new GroupVersionKind(Constant(type, "KubeGroup"), Constant(type, "KubeVersion"), Constant(type, "KubeKind"));
    }
}
