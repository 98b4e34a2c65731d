using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Serialization;
using Kubesharp.Client.Informers;
using Kubesharp.IntegrationTests.Support;

namespace Kubesharp.Client.Tests.Informers;

/// <summary>The JSON informer against a real in-process API server, following a custom resource defined after it started.</summary>
public sealed class JsonInformerTests
{
    [Fact]
    public async Task RunAsync_ResourceDefinedLater_FollowsCreatesUpdatesAndDeletes()
    {
        await using var server = await TestApiServer.StartAsync();
        var changes = 0;
        var informer = new JsonInformer(server.Client, "/apis/example.com/v1/widgets", () => Interlocked.Increment(ref changes));
        using var stopping = new CancellationTokenSource();
        var running = informer.RunAsync(stopping.Token);

        // Not served yet: the informer keeps trying until the definition is established.
        await server.Client.SendRequiredJsonAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", (JsonObject)YamlDecoder.Decode(new CustomResourceDefinitionManifest("example.com", "widgets", "Widget")
        {
            ListKind = "WidgetList",
            Versions = [new("v1") { Storage = true, Spec = "{type: object, properties: {size: {type: integer}}}" }],
        }.ToYaml())!);
        using var timeout = new CancellationTokenSource(Eventually.Patience);
        await informer.WaitForSyncAsync(timeout.Token);

        var path = "/apis/example.com/v1/namespaces/default/widgets";
        await Eventually.TrueAsync(async () =>
            await server.Client.SendJsonAsync(HttpMethod.Post, path, Widget("a", 1)) is not null, "the widget to be created");
        await Eventually.TrueAsync(() => (int?)informer.Get("default", "a")?["spec"]?["size"] == 1, "the created widget");

        await server.Client.PatchJsonAsync(path + "/a", PatchType.Merge, new JsonObject { ["spec"] = new JsonObject { ["size"] = 2 } });
        await Eventually.TrueAsync(() => (int?)informer.Get("default", "a")?["spec"]?["size"] == 2, "the updated widget");

        var before = Volatile.Read(ref changes);
        await server.Client.SendRequiredJsonAsync(HttpMethod.Delete, path + "/a", null);
        await Eventually.TrueAsync(() => informer.Get("default", "a") is null && informer.List().Count == 0, "the deleted widget");
        Assert.True(Volatile.Read(ref changes) > before);

        await stopping.CancelAsync();
        await running;
    }

    private static JsonObject Widget(string name, int size) => new()
    {
        ["apiVersion"] = "example.com/v1",
        ["kind"] = "Widget",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject { ["size"] = size },
    };

}
