using System.Net;

namespace Kubesharp.IntegrationTests.ApiServer;

[Collection(ServerCollection.Name)]
public sealed class DiscoveryTests(TestServer server)
{
    private const string Aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

    [Fact]
    public async Task Apis_AggregatedAccept_AnswersDiscoveryListWithContentType()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apis");
        request.Headers.TryAddWithoutValidation("Accept", Aggregated);
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", response.Content.Headers.ContentType!.ToString().Replace(" ", "", StringComparison.Ordinal));
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("APIGroupDiscoveryList", (string?)body["kind"]);
        var apps = body["items"]!.AsArray().Single(i => (string?)i!["metadata"]!["name"] == "apps")!;
        var deployments = apps["versions"]![0]!["resources"]!.AsArray().Single(r => (string?)r!["resource"] == "deployments")!;
        Assert.Equal("Namespaced", (string?)deployments["scope"]);
        Assert.Contains(deployments["subresources"]!.AsArray(), s => (string?)s!["subresource"] == "scale");
        Assert.Contains(deployments["shortNames"]!.AsArray(), s => (string?)s == "deploy");
    }

    [Theory]
    [InlineData("/apis", "APIGroupList")]
    [InlineData("/api", "APIVersions")]
    public async Task Discovery_V2beta1AcceptFirst_AnswersThePlainList(string path, string kind)
    {
        // kubectl 1.27 asks for v2beta1 and then plain JSON; only v2 is served, so the plain list answers.
        var (status, body) = await server.GetAsync(path, "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(kind, (string?)body!["kind"]);
    }

    [Fact]
    public async Task Api_Plain_AnswersApiVersions()
    {
        var (status, body) = await server.GetAsync("/api");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("APIVersions", (string?)body!["kind"]);
    }

    [Fact]
    public async Task CoreResourceList_ListsPodsAndStatusSubresource()
    {
        var (status, body) = await server.GetAsync("/api/v1");
        Assert.Equal(HttpStatusCode.OK, status);
        var names = body!["resources"]!.AsArray().Select(r => (string?)r!["name"]).ToList();
        Assert.Contains("pods", names);
        Assert.Contains("pods/status", names);
        Assert.Contains("namespaces", names);
    }

    [Theory]
    [InlineData("/apis/nothing.example.com/v1")]
    [InlineData("/api/v1/nothings")]
    [InlineData("/apis/apps/v1/namespaces/default/nothings")]
    [InlineData("/not/a/path")]
    public async Task UnknownPath_Answers404Status(string path)
    {
        var (status, body) = await server.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("Status", (string?)body!["kind"]);
        Assert.Equal("NotFound", (string?)body["reason"]);
    }
}
