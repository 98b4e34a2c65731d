using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>The deprecated /watch/ paths that older clients (Ruby's kubeclient) use instead of ?watch=true.</summary>
[Collection(ServerCollection.Name)]
public sealed class LegacyWatchPathTests(TestServer server)
{
    private async Task<string> CreateNamespaceAsync()
    {
        var ns = "lw" + Guid.NewGuid().ToString("N")[..10];
        var (status, _) = await server.PostAsync("/api/v1/namespaces", "{\"metadata\":{\"name\":\"" + ns + "\"}}");
        Assert.Equal(HttpStatusCode.Created, status);
        return ns;
    }

    private async Task<(HttpResponseMessage Response, StreamReader Reader)> OpenAsync(string path)
    {
        var response = await server.Client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    private static async Task<JsonObject> NextAsync(StreamReader reader)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await reader.ReadLineAsync(timeout.Token);
        Assert.NotNull(line);
        return JsonNode.Parse(line)!.AsObject();
    }

    private static string? NameOf(JsonObject watchEvent) => (string?)watchEvent["object"]!["metadata"]!["name"];

    [Fact]
    public async Task LegacyWatch_NamespacedCollection_StreamsLikeWatchParameter()
    {
        var ns = await CreateNamespaceAsync();
        try
        {
            await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"existing"}}""");
            var (response, reader) = await OpenAsync($"/api/v1/watch/namespaces/{ns}/configmaps");
            using (response)
            {
                var first = await NextAsync(reader);
                Assert.Equal("ADDED", (string?)first["type"]);
                Assert.Equal("existing", NameOf(first));
                await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"later"}}""");
                var second = await NextAsync(reader);
                Assert.Equal("ADDED", (string?)second["type"]);
                Assert.Equal("later", NameOf(second));
            }
        }
        finally
        {
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        }
    }

    [Fact]
    public async Task LegacyWatch_NamedObject_SeesOnlyThatObject()
    {
        var ns = await CreateNamespaceAsync();
        try
        {
            await server.PostAsync($"/apis/apps/v1/namespaces/{ns}/controllerrevisions", """{"metadata":{"name":"other"},"revision":1}""");
            await server.PostAsync($"/apis/apps/v1/namespaces/{ns}/controllerrevisions", """{"metadata":{"name":"mine"},"revision":1}""");
            var (response, reader) = await OpenAsync($"/apis/apps/v1/watch/namespaces/{ns}/controllerrevisions/mine");
            using (response)
            {
                var first = await NextAsync(reader);
                Assert.Equal("ADDED", (string?)first["type"]);
                Assert.Equal("mine", NameOf(first));

                // A change to the other object comes first, yet the watch reports only its own.
                await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/controllerrevisions/other", """{"metadata":{"labels":{"x":"1"}}}""", "application/merge-patch+json");
                await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/controllerrevisions/mine", """{"metadata":{"labels":{"x":"2"}}}""", "application/merge-patch+json");
                var second = await NextAsync(reader);
                Assert.Equal("MODIFIED", (string?)second["type"]);
                Assert.Equal("mine", NameOf(second));
                Assert.Equal("2", (string?)second["object"]!["metadata"]!["labels"]!["x"]);
            }
        }
        finally
        {
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        }
    }

    [Fact]
    public async Task LegacyWatch_ClusterWideAndClusterScoped_Stream()
    {
        var ns = await CreateNamespaceAsync();
        try
        {
            await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"labelled","labels":{"legacy-watch":"LABEL"}}}""".Replace("LABEL", ns, StringComparison.Ordinal));

            // Every namespace's objects, narrowed by a selector.
            var (all, allReader) = await OpenAsync($"/api/v1/watch/configmaps?labelSelector=legacy-watch%3D{ns}");
            using (all)
            {
                var added = await NextAsync(allReader);
                Assert.Equal("labelled", NameOf(added));
                Assert.Equal(ns, (string?)added["object"]!["metadata"]!["namespace"]);
            }

            // A cluster-scoped object by name: /watch/namespaces/NAME is the namespace itself.
            var (named, namedReader) = await OpenAsync($"/api/v1/watch/namespaces/{ns}");
            using (named)
            {
                var added = await NextAsync(namedReader);
                Assert.Equal("ADDED", (string?)added["type"]);
                Assert.Equal("Namespace", (string?)added["object"]!["kind"]);
                Assert.Equal(ns, NameOf(added));
            }
        }
        finally
        {
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        }
    }

    [Fact]
    public async Task LegacyWatch_BadRequests_AnswerStatus()
    {
        // A field selector naming another object than the path is refused, as upstream.
        var (mismatch, body) = await server.GetAsync("/api/v1/watch/namespaces/default/configmaps/a?fieldSelector=metadata.name%3Db");
        Assert.Equal(HttpStatusCode.BadRequest, mismatch);
        Assert.Equal("fieldSelector metadata.name doesn't match requested name", (string?)body!["message"]);

        // Subresources have no watch path, and a watch path is read-only.
        var (subresource, _) = await server.GetAsync("/api/v1/watch/namespaces/default/pods/a/status");
        Assert.Equal(HttpStatusCode.NotFound, subresource);
        var (post, _) = await server.PostAsync("/api/v1/watch/namespaces/default/configmaps", """{"metadata":{"name":"x"}}""");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post);
    }
}
