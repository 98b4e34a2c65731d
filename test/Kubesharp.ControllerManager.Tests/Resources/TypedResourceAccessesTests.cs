using System.Reflection;
using Kubesharp.Api;
using Kubesharp.ApiMachinery;
using Kubesharp.ControllerManager.Resources;

namespace Kubesharp.ControllerManager.Tests.Resources;

public sealed class TypedResourceAccessesTests
{
    [Fact]
    public void Kinds_EveryGeneratedObjectKind_IsListed()
    {
        // The table replaces a reflection scan in the native build; here the scan checks the table.
        var generated = typeof(ApiCatalog).Assembly.GetTypes()
            .Where(t => t.IsClass && typeof(IKubernetesKind).IsAssignableFrom(t) && typeof(IKubernetesObject).IsAssignableFrom(t))
            .Select(t => (Constant(t, "KubeGroup"), Constant(t, "KubeVersion"), Constant(t, "KubeKind")))
            .Where(k => !k.Item3.EndsWith("List", StringComparison.Ordinal))
            .Order()
            .ToList();

        Assert.NotEmpty(generated);
        Assert.Equal(generated, TypedResourceAccesses.Kinds.Order().ToList());
    }

    [Fact]
    public void Create_ResourceOfAListedKind_GivesAnAccessForThatResource()
    {
        // No request is made: the accesses only hold the client.
        using var client = new Kubesharp.Client.KubernetesClient(new Kubesharp.Client.KubernetesClientOptions { Server = new Uri("https://127.0.0.1:1") });
        var kinds = TypedResourceAccesses.Kinds.ToHashSet();
        var resources = ApiCatalog.Resources.Where(r => kinds.Contains((r.Group, r.Version, r.Kind))).ToList();
        var wrong = resources.Where(r => TypedResourceAccesses.Create(client, r)?.Resource != r).Select(r => $"{r.Group}/{r.Version}/{r.Resource}").ToList();

        Assert.Contains(resources, r => r is { Group: "apps", Version: "v1", Kind: "Deployment" });
        Assert.Empty(wrong);
        Assert.Null(TypedResourceAccesses.Create(client, resources[0] with { Kind = "NoSuchKind" }));
    }

    private static string Constant(Type type, string name) =>
        (string)(type.GetField(name, BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() ?? string.Empty);
}
