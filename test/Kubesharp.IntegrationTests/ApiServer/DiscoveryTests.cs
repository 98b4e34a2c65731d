using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Kubesharp.ApiServer.Security;
using Kubesharp.Client;
using Kubesharp.Client.Discovery;

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

    [Theory]
    [InlineData("/api")]
    [InlineData("/apis")]
    public async Task AggregatedDiscovery_IfNoneMatch_Answers304WithoutABody(string path)
    {
        using var first = await SendAggregatedAsync(path, ifNoneMatch: null);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);

        using var again = await SendAggregatedAsync(path, etag.ToString());
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Equal(etag, again.Headers.ETag);
        Assert.Empty(await again.Content.ReadAsByteArrayAsync());

        using var other = await SendAggregatedAsync(path, "\"0\"");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await other.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task DiscoveryClient_UnchangedDiscovery_IsAnswered304AndReadAgainOnceItChanges()
    {
        var (certificatePem, keyPem) = ComponentIdentities.Issue(server.Host.Certificates, ComponentIdentities.ControllerManager, TimeProvider.System);
        using var certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        var answers = new ConcurrentQueue<(string Path, HttpStatusCode Status)>();
        using var client = new KubernetesClient(
            new KubernetesClientOptions { Server = server.Host.Url },
            new StatusRecordingHandler(server.Host.CreateInProcessHandler(certificate), answers));
        var discovery = new DiscoveryClient(client);

        var first = await discovery.ServerPreferredResourcesAsync();
        Assert.Equal([("/api", HttpStatusCode.OK), ("/apis", HttpStatusCode.OK)], answers.ToArray());
        answers.Clear();
        var second = await discovery.ServerPreferredResourcesAsync();
        Assert.Equal([("/api", HttpStatusCode.NotModified), ("/apis", HttpStatusCode.NotModified)], answers.ToArray());
        Assert.Equal(first.Resources, second.Resources);
        Assert.Contains(second.Resources, r => r is { Group: "apps", Resource: "deployments", Kind: "Deployment" });

        // A new custom resource changes /apis: the client reads the new document and lists the resource.
        var group = "etag" + Guid.NewGuid().ToString("N")[..8] + ".example.com";
        var (status, body) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CustomResourceTests.WidgetDefinition(group));
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        try
        {
            var clock = Stopwatch.StartNew();
            DiscoveredResources found;
            do
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "discovery did not list the new custom resource");
                await Task.Delay(20);
                answers.Clear();
                found = await discovery.ServerPreferredResourcesAsync();
            }
            while (!found.Resources.Any(r => r.Group == group));

            Assert.Contains(("/apis", HttpStatusCode.OK), answers);
            Assert.Equal(second.Resources.Count + 1, found.Resources.Count);
        }
        finally
        {
            await server.SendAsync(HttpMethod.Delete, $"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}");
        }
    }

    private async Task<HttpResponseMessage> SendAggregatedAsync(string path, string? ifNoneMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept", Aggregated);
        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return await server.Client.SendAsync(request);
    }

    /// <summary>Records the path and status of every answer.</summary>
    private sealed class StatusRecordingHandler(HttpMessageHandler inner, ConcurrentQueue<(string Path, HttpStatusCode Status)> answers) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            answers.Enqueue((request.RequestUri!.AbsolutePath, response.StatusCode));
            return response;
        }
    }
}
