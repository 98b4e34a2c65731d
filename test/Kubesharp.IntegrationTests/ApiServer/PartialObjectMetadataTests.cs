using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Discovery;
using Kubesharp.Client.Informers;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// Metadata-only reads (Accept <c>as=PartialObjectMetadata;g=meta.k8s.io;v=v1</c>) of built-in and custom
/// resources, over raw HTTPS as the official clients send them, and through the client library's metadata
/// resource client, informer and discovery.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class PartialObjectMetadataTests(TestServer server) : IAsyncLifetime, IDisposable
{
    /// <summary>The Accept header the official clients send for metadata-only requests.</summary>
    private const string MetadataAccept = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

    private readonly string group = "pm" + Guid.NewGuid().ToString("N")[..10] + ".example.com";
    private readonly string ns = "pm" + Guid.NewGuid().ToString("N")[..10];
    private KubernetesClient client = null!;

    private string Widgets => $"/apis/{group}/v1/namespaces/{ns}/widgets";

    public async Task InitializeAsync()
    {
        client = new KubernetesClient(new KubernetesClientOptions
        {
            Server = server.Host.Url,
            CertificateAuthorityPem = server.Host.Certificates.CaPem,
            ClientCertificatePem = server.Host.Certificates.AdminCertificatePem,
            ClientKeyPem = server.Host.Certificates.AdminKeyPem,
        });
        var (status, body) = await server.PostAsync("/api/v1/namespaces", $$$"""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"{{{ns}}}"}}""");
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        (status, body) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CustomResourceTests.WidgetDefinition(group));
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        await EventuallyAsync(async () => (await server.GetAsync($"/apis/{group}/v1")).Status == HttpStatusCode.OK, $"widgets.{group} to be served");
    }

    public async Task DisposeAsync()
    {
        await server.SendAsync(HttpMethod.Delete, $"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}");
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
    }

    public void Dispose() => client.Dispose();

    [Fact]
    public async Task List_PartialObjectMetadataAccept_AnswersMetadataOnlyListOfCustomAndBuiltInResources()
    {
        await CreateWidgetAsync("blue-one", "blue");
        var (status, body) = await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","labels":{"a":"b"}},"data":{"secret":"value"}}""");
        Assert.Equal(HttpStatusCode.Created, status);

        foreach (var (path, name) in new[] { (Widgets, "blue-one"), ($"/api/v1/namespaces/{ns}/configmaps", "settings") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("Accept", MetadataAccept);
            using var response = await server.Client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            Assert.Contains("as=PartialObjectMetadataList", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
            var list = JsonNode.Parse(text)!.AsObject();
            Assert.Equal("PartialObjectMetadataList", (string?)list["kind"]);
            Assert.Equal("meta.k8s.io/v1", (string?)list["apiVersion"]);
            Assert.False(string.IsNullOrEmpty((string?)list["metadata"]?["resourceVersion"]));
            var item = Assert.Single(list["items"]!.AsArray())!.AsObject();
            Assert.Equal("PartialObjectMetadata", (string?)item["kind"]);
            Assert.Equal("meta.k8s.io/v1", (string?)item["apiVersion"]);
            Assert.Equal(name, (string?)item["metadata"]?["name"]);
            Assert.False(string.IsNullOrEmpty((string?)item["metadata"]?["uid"]));
            Assert.Equal(["apiVersion", "kind", "metadata"], item.Select(p => p.Key).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Watch_PartialObjectMetadataAccept_StreamsMetadataOnlyEventsOfCustomResources()
    {
        var (_, list) = await server.GetAsync(Widgets, MetadataAccept);
        var resourceVersion = (string)list!["metadata"]!["resourceVersion"]!;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Widgets}?watch=true&resourceVersion={resourceVersion}&timeoutSeconds=60");
        request.Headers.TryAddWithoutValidation("Accept", MetadataAccept);
        using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        await CreateWidgetAsync("watched", "red");

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await reader.ReadLineAsync(timeout.Token);
        var change = JsonNode.Parse(line!)!.AsObject();
        Assert.Equal("ADDED", (string?)change["type"]);
        var obj = change["object"]!.AsObject();
        Assert.Equal("PartialObjectMetadata", (string?)obj["kind"]);
        Assert.Equal("meta.k8s.io/v1", (string?)obj["apiVersion"]);
        Assert.Equal("watched", (string?)obj["metadata"]?["name"]);
        Assert.Null(obj["spec"]);
    }

    [Fact]
    public async Task MetadataInformer_CustomResource_CachesMetadataWithoutManagedFieldsAndFollowsChanges()
    {
        var resources = await new DiscoveryClient(client).ServerPreferredResourcesAsync();
        var widgets = Assert.Single(resources.Resources, r => r.Group == group);
        Assert.Equal(("v1", "widgets", "Widget", true), (widgets.Version, widgets.Resource, widgets.Kind, widgets.Namespaced));
        Assert.Contains("watch", widgets.Verbs);
        Assert.Contains(resources.Resources, r => r is { Group: "", Resource: "configmaps", Kind: "ConfigMap" });

        // Server-side apply records managed fields, which the informer's transform leaves out of the cache.
        await client.PatchJsonAsync(
            $"{Widgets}/cached",
            PatchType.Apply,
            JsonNode.Parse($$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"cached"},"spec":{"color":"green"}}""")!.AsObject(),
            new PatchOptions { FieldManager = "metadata-test" });
        var informer = new SharedInformer<PartialObjectMetadata>(client.MetadataResource(widgets), new SharedInformerOptions { Namespace = ns })
        {
            Transform = o => o with { Metadata = o.Metadata! with { ManagedFields = null } },
        };
        var deleted = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        informer.AddEventHandler(onDelete: o => deleted.TrySetResult(o.Metadata!.Name!));
        using var stop = new CancellationTokenSource();
        var running = informer.RunAsync(stop.Token);
        try
        {
            await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            var cached = informer.Lister.Get(ns, "cached");
            Assert.NotNull(cached);
            Assert.Equal("PartialObjectMetadata", cached.Kind);
            Assert.False(string.IsNullOrEmpty(cached.Metadata!.Uid));
            Assert.Null(cached.Metadata.ManagedFields);

            var live = await client.MetadataResource(widgets).GetAsync(ns, "cached");
            Assert.Equal(cached.Metadata.Uid, live.Metadata!.Uid);
            Assert.NotNull(live.Metadata.ManagedFields);

            await client.MetadataResource(widgets).DeleteAsync(ns, "cached");
            Assert.Equal("cached", await deleted.Task.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Null(informer.Lister.Get(ns, "cached"));
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    private async Task CreateWidgetAsync(string name, string color)
    {
        var (status, body) = await server.PostAsync(Widgets, $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"{{{name}}}"},"spec":{"color":"{{{color}}}"}}""");
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"waited {clock.Elapsed} for {what}");
    }
}
