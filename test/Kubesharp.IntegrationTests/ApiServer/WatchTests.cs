using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

[Collection(ServerCollection.Name)]
public sealed class WatchTests(TestServer server)
{
    private async Task<string> CreateNamespaceAsync()
    {
        var ns = "w" + Guid.NewGuid().ToString("N")[..10];
        await server.PostAsync("/api/v1/namespaces", "{\"metadata\":{\"name\":\"" + ns + "\"}}");
        return ns;
    }

    private async Task<(HttpResponseMessage Response, StreamReader Reader)> OpenWatchAsync(string path)
    {
        var response = await server.Client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    private static async Task<JsonObject> NextAsync(StreamReader reader)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await reader.ReadLineAsync(timeout.Token);
        Assert.NotNull(line);
        return JsonNode.Parse(line)!.AsObject();
    }

    [Fact]
    public async Task Watch_FromListResourceVersion_StreamsAddedModifiedDeleted()
    {
        var ns = await CreateNamespaceAsync();
        var (_, list) = await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps");
        var rv = (string?)list!["metadata"]!["resourceVersion"];
        var (response, reader) = await OpenWatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion={rv}");
        using (response)
        {
            await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"a"},"data":{"k":"1"}}""");
            await server.SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/configmaps/a", """{"data":{"k":"2"}}""", "application/merge-patch+json");
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}/configmaps/a");
            var added = await NextAsync(reader);
            var modified = await NextAsync(reader);
            var deleted = await NextAsync(reader);
            Assert.Equal("ADDED", (string?)added["type"]);
            Assert.Equal("MODIFIED", (string?)modified["type"]);
            Assert.Equal("2", (string?)modified["object"]!["data"]!["k"]);
            Assert.Equal("DELETED", (string?)deleted["type"]);
            Assert.True(long.Parse((string)deleted["object"]!["metadata"]!["resourceVersion"]!, System.Globalization.CultureInfo.InvariantCulture) >
                        long.Parse((string)modified["object"]!["metadata"]!["resourceVersion"]!, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task Watch_WithoutResourceVersion_StartsWithCurrentState()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"existing"}}""");
        var (response, reader) = await OpenWatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1");
        using (response)
        {
            var first = await NextAsync(reader);
            Assert.Equal("ADDED", (string?)first["type"]);
            Assert.Equal("existing", (string?)first["object"]!["metadata"]!["name"]);
        }
    }

    [Fact]
    public async Task Watch_SendInitialEvents_EndsInitialEventsWithBookmark()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"one"}}""");
        var (response, reader) = await OpenWatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true");
        using (response)
        {
            Assert.Equal("ADDED", (string?)(await NextAsync(reader))["type"]);
            var bookmark = await NextAsync(reader);
            Assert.Equal("BOOKMARK", (string?)bookmark["type"]);
            Assert.Equal("true", (string?)bookmark["object"]!["metadata"]!["annotations"]!["k8s.io/initial-events-end"]);
        }
    }

    [Fact]
    public async Task Watch_LabelSelector_ObjectLeavingSelectionIsDeleted()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"a","labels":{"app":"x"}}}""");
        var (response, reader) = await OpenWatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1&labelSelector=app%3Dx");
        using (response)
        {
            Assert.Equal("ADDED", (string?)(await NextAsync(reader))["type"]);
            await server.SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/configmaps/a", """{"metadata":{"labels":{"app":"y"}}}""", "application/merge-patch+json");
            Assert.Equal("DELETED", (string?)(await NextAsync(reader))["type"]);
        }
    }
}

/// <summary>A server keeping only two watch events per resource, so older resourceVersions fall out of history.</summary>
public sealed class ShortHistoryServer : TestServer
{
    protected override int HistoryLimit => 2;
}

public sealed class WatchHistoryTests(ShortHistoryServer server) : IClassFixture<ShortHistoryServer>
{
    [Fact]
    public async Task Watch_TooOldResourceVersion_SendsGoneError()
    {
        var (_, list) = await server.GetAsync("/api/v1/namespaces/default/configmaps");
        var rv = (string?)list!["metadata"]!["resourceVersion"];
        for (var i = 0; i < 4; i++)
        {
            await server.PostAsync("/api/v1/namespaces/default/configmaps", "{\"metadata\":{\"name\":\"h" + i + "\"}}");
        }

        using var response = await server.Client.GetAsync($"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var error = JsonNode.Parse((await reader.ReadLineAsync())!)!;
        Assert.Equal("ERROR", (string?)error["type"]);
        Assert.Equal(410, (int?)error["object"]!["code"]);
        Assert.StartsWith("too old resource version", (string?)error["object"]!["message"], StringComparison.Ordinal);
    }
}
