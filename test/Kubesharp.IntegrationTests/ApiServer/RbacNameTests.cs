using System.Net;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>RBAC objects are named by path segments, as upstream validates them: add-ons name roles like system:aggregated-metrics-reader.</summary>
[Collection(ServerCollection.Name)]
public sealed class RbacNameTests(TestServer server)
{
    [Fact]
    public async Task ClusterRoleAndBinding_NamedWithColonsAndCapitals_AreCreated()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var role = $"system:aggregated-metrics-reader:{suffix}";
        var (status, created) = await server.PostAsync("/apis/rbac.authorization.k8s.io/v1/clusterroles",
            "{\"metadata\":{\"name\":\"" + role + "\"},\"rules\":[{\"apiGroups\":[\"metrics.k8s.io\"],\"resources\":[\"pods\"],\"verbs\":[\"get\"]}]}");
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());

        var binding = $"Metrics_Server:{suffix}";
        (status, created) = await server.PostAsync("/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
            "{\"metadata\":{\"name\":\"" + binding + "\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"x\",\"apiGroup\":\"rbac.authorization.k8s.io\"}],\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"" + role + "\",\"apiGroup\":\"rbac.authorization.k8s.io\"}}");
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync($"/apis/rbac.authorization.k8s.io/v1/clusterroles/{Uri.EscapeDataString(role)}")).Status);
        await server.SendAsync(HttpMethod.Delete, $"/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/{Uri.EscapeDataString(binding)}");
        await server.SendAsync(HttpMethod.Delete, $"/apis/rbac.authorization.k8s.io/v1/clusterroles/{Uri.EscapeDataString(role)}");
    }

    [Fact]
    public async Task ClusterRole_NamedWithASlash_Answers422()
    {
        var (status, body) = await server.PostAsync("/apis/rbac.authorization.k8s.io/v1/clusterroles", """{"metadata":{"name":"a/b"},"rules":[]}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("metadata.name", (string?)body!["details"]!["causes"]![0]!["field"]);
    }
}
