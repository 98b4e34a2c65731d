using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// CustomResourceDefinitions with conversion strategy Webhook: a real HTTPS conversion webhook in the test process
/// converts Widgets between v1 (stored, <c>spec.color</c>) and v2 (<c>spec.colour</c>).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class CustomResourceConversionTests(TestServer server) : IAsyncLifetime
{
    private TestConversionWebhook _webhook = null!;

    public async Task InitializeAsync() => _webhook = await TestConversionWebhook.StartAsync();

    public async Task DisposeAsync() => await _webhook.DisposeAsync();

    private static string NewGroup() => "cv" + Guid.NewGuid().ToString("N")[..10] + ".example.com";

    private static string Definition(string group, string url, string caBundle) => $$$"""
        {
          "apiVersion": "apiextensions.k8s.io/v1",
          "kind": "CustomResourceDefinition",
          "metadata": {"name": "widgets.{{{group}}}"},
          "spec": {
            "group": "{{{group}}}",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "conversion": {
              "strategy": "Webhook",
              "webhook": {"conversionReviewVersions": ["v1"], "clientConfig": {"url": "{{{url}}}", "caBundle": "{{{caBundle}}}"}}
            },
            "versions": [
              {
                "name": "v1", "served": true, "storage": true,
                "subresources": {"scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                  "spec": {"type": "object", "properties": {"color": {"type": "string"}, "replicas": {"type": "integer"} } },
                  "status": {"type": "object", "properties": {"replicas": {"type": "integer"} } } } } }
              },
              {
                "name": "v2", "served": true, "storage": false,
                "additionalPrinterColumns": [{"name": "Colour", "type": "string", "jsonPath": ".spec.colour"}],
                "subresources": {"scale": {"specReplicasPath": ".spec.count", "statusReplicasPath": ".status.replicas"}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                  "spec": {"type": "object", "properties": {"colour": {"type": "string"}, "count": {"type": "integer"} } },
                  "status": {"type": "object", "properties": {"replicas": {"type": "integer"} } } } } }
              }
            ]
          }
        }
        """;

    private async Task EstablishAsync(string group, string url)
    {
        var (status, created) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Definition(group, url, _webhook.CaBundle));
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 200; i++)
        {
            var (_, crd) = await server.GetAsync($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}");
            if ((crd!["status"]?["conditions"] as JsonArray)?.Any(c => (string?)c!["type"] == "Established" && (string?)c["status"] == "True") == true
                && (await server.GetAsync($"/apis/{group}/v2")).Status == HttpStatusCode.OK)
            {
                return;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"widgets.{group} not Established after {clock.Elapsed}");
    }

    private async Task DeleteDefinitionAsync(string group)
    {
        await server.SendAsync(HttpMethod.Delete, $"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}");
        for (var i = 0; i < 500; i++)
        {
            if ((await server.GetAsync($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}")).Status == HttpStatusCode.NotFound)
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"widgets.{group} not deleted");
    }

    private static string Widget(string group, string version, string name, string field, string value) =>
        $$$"""{"apiVersion":"{{{group}}}/{{{version}}}","kind":"Widget","metadata":{"name":"{{{name}}}"},"spec":{"{{{field}}}":"{{{value}}}"}}""";

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Webhook_ConvertsReadsListsUpdatesAndWatches()
    {
        var group = NewGroup();
        try
        {
            await EstablishAsync(group, _webhook.Url("/convert"));
            var v1 = $"/apis/{group}/v1/namespaces/default/widgets";
            var v2 = $"/apis/{group}/v2/namespaces/default/widgets";

            // Created in the storage version: no webhook call on the way in or out.
            var (status, created) = await server.PostAsync(v1, Widget(group, "v1", "first", "color", "red"));
            Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
            Assert.Equal("red", (string?)created!["spec"]!["color"]);
            Assert.Empty(_webhook.Calls);

            // Read in v2: one review of the stored v1 object, the renamed field in the answer.
            var (_, read) = await server.GetAsync(v2 + "/first");
            Assert.Equal($"{group}/v2", (string?)read!["apiVersion"]);
            Assert.Equal("red", (string?)read["spec"]!["colour"]);
            Assert.Null(read["spec"]!["color"]);
            Assert.Equal((string?)created["metadata"]!["uid"], (string?)read["metadata"]!["uid"]);
            Assert.True(_webhook.Calls.TryDequeue(out var call));
            Assert.Equal("?timeout=30s", call.Query);
            Assert.Equal($"{group}/v2", (string?)call.Request["desiredAPIVersion"]);
            Assert.False(string.IsNullOrEmpty((string?)call.Request["uid"]));
            Assert.Equal($"{group}/v1", (string?)call.Request["objects"]![0]!["apiVersion"]);

            // Created in v2: converted to v1 before it is stored, and back for the answer.
            (status, created) = await server.PostAsync(v2, Widget(group, "v2", "second", "colour", "green"));
            Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
            Assert.Equal("green", (string?)created!["spec"]!["colour"]);
            var (_, stored) = await server.GetAsync(v1 + "/second");
            Assert.Equal("green", (string?)stored!["spec"]!["color"]);
            Assert.Null(stored["spec"]!["colour"]);
            _webhook.Calls.Clear();

            // A list in v2 converts its items in one review.
            var (_, list) = await server.GetAsync(v2);
            Assert.Equal($"{group}/v2", (string?)list!["apiVersion"]);
            Assert.Equal("WidgetList", (string?)list["kind"]);
            var items = (list["items"] as JsonArray)!.Select(i => ((string?)i!["metadata"]!["name"], (string?)i["spec"]!["colour"])).OrderBy(i => i.Item1).ToList();
            Assert.Equal([("first", "red"), ("second", "green")], items);
            Assert.Single(_webhook.Calls);
            Assert.Equal(2, (_webhook.Calls.Single().Request["objects"] as JsonArray)!.Count);

            // Printer columns of v2 read the converted object.
            var (_, table) = await server.GetAsync(v2 + "/first", "application/json;as=Table;v=v1;g=meta.k8s.io");
            Assert.Equal("red", (string?)table!["rows"]![0]!["cells"]![1]);

            // Updated through v2: stored as v1.
            read!["spec"]!["colour"] = "blue";
            var (updateStatus, updated) = await server.SendAsync(HttpMethod.Put, v2 + "/first", read.ToJsonString());
            Assert.True(updateStatus == HttpStatusCode.OK, updated?.ToJsonString());
            Assert.Equal("blue", (string?)updated!["spec"]!["colour"]);
            (_, stored) = await server.GetAsync(v1 + "/first");
            Assert.Equal("blue", (string?)stored!["spec"]!["color"]);

            // A merge patch through v2 names the v2 field.
            var (patchStatus, patched) = await server.SendAsync(HttpMethod.Patch, v2 + "/second", """{"spec":{"colour":"red"}}""", "application/merge-patch+json");
            Assert.True(patchStatus == HttpStatusCode.OK, patched?.ToJsonString());
            Assert.Equal("red", (string?)patched!["spec"]!["colour"]);
            (_, stored) = await server.GetAsync(v1 + "/second");
            Assert.Equal("red", (string?)stored!["spec"]!["color"]);

            // The scale subresource of v2 reads and writes v2's replicas path.
            Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Patch, v1 + "/second", """{"spec":{"replicas":3}}""", "application/merge-patch+json")).Status);
            var (scaleStatus, scale) = await server.GetAsync(v2 + "/second/scale");
            Assert.True(scaleStatus == HttpStatusCode.OK, scale?.ToJsonString());
            Assert.Equal(3, (int?)scale!["spec"]!["replicas"]);
            (scaleStatus, scale) = await server.SendAsync(HttpMethod.Patch, v2 + "/second/scale", """{"spec":{"replicas":5}}""", "application/merge-patch+json");
            Assert.True(scaleStatus == HttpStatusCode.OK, scale?.ToJsonString());
            Assert.Equal(5, (int?)scale!["spec"]!["replicas"]);
            (_, stored) = await server.GetAsync(v1 + "/second");
            Assert.Equal(5, (int?)stored!["spec"]!["replicas"]);
            Assert.Null(stored["spec"]!["count"]);

            // A watch in v2 sees converted objects.
            using var request = new HttpRequestMessage(HttpMethod.Get, v2 + "?watch=true&timeoutSeconds=10&fieldSelector=metadata.name%3Dfirst");
            using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var added = JsonNode.Parse((await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)))!)!;
            Assert.Equal("ADDED", (string?)added["type"]);
            Assert.Equal("blue", (string?)added["object"]!["spec"]!["colour"]);
            Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Patch, v1 + "/first", """{"spec":{"color":"green"}}""", "application/merge-patch+json")).Status);
            var modified = JsonNode.Parse((await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)))!)!;
            Assert.Equal("MODIFIED", (string?)modified["type"]);
            Assert.Equal($"{group}/v2", (string?)modified["object"]!["apiVersion"]);
            Assert.Equal("green", (string?)modified["object"]!["spec"]!["colour"]);
        }
        finally
        {
            await DeleteDefinitionAsync(group);
        }
    }

    [Fact]
    public async Task Webhook_Down_AnswersStatusErrorAndStoresNothing()
    {
        var group = NewGroup();
        var port = ClosedPort();
        try
        {
            await EstablishAsync(group, $"https://127.0.0.1:{port}/convert");
            var v1 = $"/apis/{group}/v1/namespaces/default/widgets";
            var v2 = $"/apis/{group}/v2/namespaces/default/widgets";
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync(v1, Widget(group, "v1", "kept", "color", "red"))).Status);

            var (status, error) = await server.GetAsync(v2 + "/kept");
            Assert.Equal(HttpStatusCode.InternalServerError, status);
            Assert.Equal("Status", (string?)error!["kind"]);
            Assert.Equal(500, (int?)error["code"]);
            Assert.Equal(
                $"conversion webhook for {group}/v1, Kind=Widget failed: Post \"https://127.0.0.1:{port}/convert?timeout=30s\": dial tcp 127.0.0.1:{port}: connect: connection refused",
                (string?)error["message"]);

            (status, error) = await server.GetAsync(v2);
            Assert.Equal(HttpStatusCode.InternalServerError, status);
            Assert.StartsWith($"conversion webhook for {group}/v1, Kind=WidgetList failed: ", (string?)error!["message"], StringComparison.Ordinal);

            (status, error) = await server.PostAsync(v2, Widget(group, "v2", "lost", "colour", "blue"));
            Assert.Equal(HttpStatusCode.InternalServerError, status);
            Assert.StartsWith($"conversion webhook for {group}/v2, Kind=Widget failed: ", (string?)error!["message"], StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync(v1 + "/lost")).Status);

            // The storage version is still served without the webhook.
            var (_, kept) = await server.GetAsync(v1 + "/kept");
            Assert.Equal("red", (string?)kept!["spec"]!["color"]);
        }
        finally
        {
            await DeleteDefinitionAsync(group);
        }
    }

    [Fact]
    public async Task Webhook_WrongCountOrChangedMetadata_IsRefused_LabelsAreKept()
    {
        var short1 = NewGroup();
        var rename = NewGroup();
        var relabel = NewGroup();
        try
        {
            await EstablishAsync(short1, _webhook.Url("/short"));
            await EstablishAsync(rename, _webhook.Url("/rename"));
            await EstablishAsync(relabel, _webhook.Url("/relabel"));
            foreach (var group in new[] { short1, rename, relabel })
            {
                var v1 = $"/apis/{group}/v1/namespaces/default/widgets";
                Assert.Equal(HttpStatusCode.Created, (await server.PostAsync(v1, Widget(group, "v1", "a", "color", "red"))).Status);
                Assert.Equal(HttpStatusCode.Created, (await server.PostAsync(v1, Widget(group, "v1", "b", "color", "blue"))).Status);
            }

            var (status, error) = await server.GetAsync($"/apis/{short1}/v2/namespaces/default/widgets");
            Assert.Equal(HttpStatusCode.InternalServerError, status);
            Assert.Equal($"conversion webhook for {short1}/v1, Kind=WidgetList returned 1 objects, expected 2", (string?)error!["message"]);
            (status, error) = await server.GetAsync($"/apis/{short1}/v2/namespaces/default/widgets/a");
            Assert.Equal(HttpStatusCode.InternalServerError, status);
            Assert.Equal($"conversion webhook for {short1}/v1, Kind=Widget returned 0 objects, expected 1", (string?)error!["message"]);

            // Nothing wrongly shaped is stored: a write through v2 fails before the store.
            (status, _) = await server.PostAsync($"/apis/{short1}/v2/namespaces/default/widgets", Widget(short1, "v2", "c", "colour", "green"));
            Assert.Equal(HttpStatusCode.InternalServerError, status);
            Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync($"/apis/{short1}/v1/namespaces/default/widgets/c")).Status);

            (status, error) = await server.GetAsync($"/apis/{rename}/v2/namespaces/default/widgets/a");
            Assert.Equal(HttpStatusCode.InternalServerError, status);
            Assert.Equal($"conversion webhook for {rename}/v1, Kind=Widget returned invalid object: must have the same name: a != renamed", (string?)error!["message"]);

            // Labels may change; the rest of metadata is the stored object's.
            var (_, converted) = await server.GetAsync($"/apis/{relabel}/v2/namespaces/default/widgets/a");
            Assert.Equal("yes", (string?)converted!["metadata"]!["labels"]!["converted"]);
            Assert.Equal(1, (int?)converted["metadata"]!["generation"]);
            Assert.Equal("red", (string?)converted["spec"]!["colour"]);
        }
        finally
        {
            await DeleteDefinitionAsync(short1);
            await DeleteDefinitionAsync(rename);
            await DeleteDefinitionAsync(relabel);
        }
    }

    [Fact]
    public async Task Definition_WebhookSettings_AreValidatedAsUpstream()
    {
        var group = NewGroup();
        var body = JsonNode.Parse(Definition(group, "http://127.0.0.1:1/convert?x=1", _webhook.CaBundle))!.AsObject();
        body["spec"]!["conversion"]!["webhook"]!["conversionReviewVersions"] = new JsonArray("v9");
        var (status, response) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body.ToJsonString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        var causes = (response!["details"]!["causes"] as JsonArray)!.Select(c => ((string?)c!["field"], (string?)c["message"])).ToList();
        Assert.Contains(("spec.conversion.webhookClientConfig.url", "Invalid value: \"http://127.0.0.1:1/convert?x=1\": 'https' is the only allowed URL scheme"), causes);
        Assert.Contains(("spec.conversion.conversionReviewVersions", "Invalid value: []string{\"v9\"}: must include at least one of v1, v1beta1"), causes);

        body["spec"]!["conversion"] = new JsonObject { ["strategy"] = "Webhook" };
        (status, response) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body.ToJsonString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook", (string?)response!["message"], StringComparison.Ordinal);
    }
}
