using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.ControllerManager.Tests.Integration;

/// <summary>The garbage collector and custom resources: owners of a kind found through discovery.</summary>
public sealed class CustomOwnerGarbageCollectionTests(ControllerCluster cluster) : IClassFixture<ControllerCluster>
{
    [Fact]
    public async Task CustomOwner_Deleted_DependentConfigMapIsCollected()
    {
        var group = "g" + Guid.NewGuid().ToString("N")[..10] + ".example.com";
        var ns = "t-" + Guid.NewGuid().ToString("N")[..10];
        await cluster.Client.Resource<Namespace>().CreateAsync(new Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new ObjectMeta { Name = ns } });
        var definition = JsonNode.Parse($$$"""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"apps.{{{group}}}"},
             "spec":{"group":"{{{group}}}","scope":"Namespaced","names":{"plural":"apps","kind":"App"},
              "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true} } }]}}
            """)!.AsObject();
        await cluster.Client.SendJsonAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", definition);
        try
        {
            var owner = await ControllerCluster.EventuallyAsync(
                () => cluster.Client.SendJsonAsync(HttpMethod.Post, $"/apis/{group}/v1/namespaces/{ns}/apps", JsonNode.Parse($$$"""{"apiVersion":"{{{group}}}/v1","kind":"App","metadata":{"name":"owner"}}""")!.AsObject()),
                o => o is not null,
                "the custom resource to be served");
            var uid = (string)owner!["metadata"]!["uid"]!;
            await cluster.Client.Resource<ConfigMap>().CreateAsync(new ConfigMap
            {
                ApiVersion = "v1",
                Kind = "ConfigMap",
                Metadata = new ObjectMeta
                {
                    Name = "owned",
                    Namespace = ns,
                    OwnerReferences = [new OwnerReference { ApiVersion = $"{group}/v1", Kind = "App", Name = "owner", Uid = uid }],
                },
            });
            await cluster.Client.Resource<ConfigMap>().CreateAsync(new ConfigMap { ApiVersion = "v1", Kind = "ConfigMap", Metadata = new ObjectMeta { Name = "free", Namespace = ns } });

            // While the owner lives, its dependent stays.
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.NotNull(await cluster.TryGetAsync<ConfigMap>(ns, "owned"));

            await cluster.Client.SendJsonAsync(HttpMethod.Delete, $"/apis/{group}/v1/namespaces/{ns}/apps/owner", null);
            await ControllerCluster.EventuallyAsync(() => cluster.TryGetAsync<ConfigMap>(ns, "owned"), c => c is null, "the owned config map to be collected");
            Assert.NotNull(await cluster.TryGetAsync<ConfigMap>(ns, "free"));
        }
        finally
        {
            await cluster.Client.SendJsonAsync(HttpMethod.Delete, $"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/apps.{group}", null);
            await cluster.Client.Resource<Namespace>().DeleteAsync(null, ns, new DeleteOptions());
        }
    }
}
