using System.Net;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>JSON patch replace of an absent member, as clients cordon nodes and restart rollouts.</summary>
[Collection(ServerCollection.Name)]
public sealed class JsonPatchReplaceTests(TestServer server)
{
    [Fact]
    public async Task Replace_AbsentMemberOfNodeSpec_IsApplied()
    {
        var name = "jp" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/nodes", "{\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{\"podCIDR\":\"10.42.200.0/24\"}}")).Status);

        var (status, node) = await server.SendAsync(HttpMethod.Patch, $"/api/v1/nodes/{name}", """[{"op":"replace","path":"/spec/unschedulable","value":true}]""", "application/json-patch+json");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True((bool?)node!["spec"]!["unschedulable"]);
        var (missingParent, body) = await server.SendAsync(HttpMethod.Patch, $"/api/v1/nodes/{name}", """[{"op":"replace","path":"/spec/nothing/here","value":1}]""", "application/json-patch+json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, missingParent);
        Assert.Equal("Status", (string?)body!["kind"]);
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/nodes/{name}");
    }
}
