using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>A server started with anonymous requests on (kube-apiserver's --anonymous-auth=true).</summary>
public sealed class AnonymousTestServer : TestServer
{
    protected override bool AnonymousAuth => true;
}

public sealed class AnonymousAuthTests(AnonymousTestServer server) : IClassFixture<AnonymousTestServer>
{
    [Fact]
    public async Task Anonymous_MayReadHealthAndVersion_AndIsRefusedTheRest()
    {
        Assert.Equal(HttpStatusCode.OK, (await server.Anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Anonymous.GetAsync("/version")).StatusCode);

        using var list = await server.Anonymous.GetAsync("/api/v1/namespaces/default/pods");
        Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        var status = JsonNode.Parse(await list.Content.ReadAsStringAsync())!;
        Assert.Equal("pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"", (string?)status["message"]);
        Assert.Equal("pods", (string?)status["details"]!["kind"]);

        // Discovery is for authenticated users only (system:discovery), as upstream.
        using var discovery = await server.Anonymous.GetAsync("/apis");
        Assert.Equal(HttpStatusCode.Forbidden, discovery.StatusCode);
        Assert.Equal("forbidden: User \"system:anonymous\" cannot get path \"/apis\"", (string?)JsonNode.Parse(await discovery.Content.ReadAsStringAsync())!["message"]);

        // A wrong credential is still a 401, never anonymous.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Anonymous.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Anonymous_SelfSubjectReview_IsRefusedUnlessGranted()
    {
        using var content = new StringContent("""{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await server.Anonymous.PostAsync("/apis/authentication.k8s.io/v1/selfsubjectreviews", content);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
