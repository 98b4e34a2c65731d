using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.Encryption;

/// <summary>A server encrypting Secrets with aescbc, whose store a test can also write into directly.</summary>
public sealed class EncryptedServer : TestServer
{
    private string? _config;

    protected override string? EncryptionProviderConfig
    {
        get
        {
            if (_config is null)
            {
                Directory.CreateDirectory(DataDir);
                _config = Path.Combine(DataDir, "encryption.json");
                File.WriteAllText(_config, "{\"kind\":\"EncryptionConfiguration\",\"apiVersion\":\"apiserver.config.k8s.io/v1\",\"resources\":[{\"resources\":[\"secrets\"],"
                    + $"\"providers\":[{{\"aescbc\":{{\"keys\":[{{\"name\":\"key1\",\"secret\":\"{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}\"}}]}}}},{{\"identity\":{{}}}}]}}]}}");
            }

            return _config;
        }
    }
}

/// <summary>
/// Objects whose stored value the server cannot read — encrypted with a key it no longer has, or not JSON at all —
/// as a foreign writer or a lost key leaves them: every other change keeps flowing, requests reaching them fail
/// naming the key (upstream's corrupt-object and StorageReadError answers), and
/// ignoreStoreReadErrorWithClusterBreakingPotential deletes them for a user allowed unsafe-delete-ignore-read-errors.
/// </summary>
public sealed class CorruptObjectTests(EncryptedServer server) : IClassFixture<EncryptedServer>
{
    private readonly string _ns = "corrupt-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task UndecryptableSecret_OtherWritesGoOn_RequestsNameIt_UnsafeDeleteRemovesIt()
    {
        await CreateNamespaceAsync();
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{_ns}/secrets", """{"metadata":{"name":"good"},"stringData":{"k":"v"}}""")).Status);
        var (_, list) = await server.GetAsync($"/api/v1/namespaces/{_ns}/secrets");
        var listed = (string)list!["metadata"]!["resourceVersion"]!;
        using var watchRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/namespaces/{_ns}/secrets?watch=true&resourceVersion={listed}");
        using var watch = await server.Client.SendAsync(watchRequest, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, watch.StatusCode);

        // Written as another server with a key this one lacks would write it.
        var key = $"/registry/secrets/{_ns}/bad";
        await server.Store.CreateAsync(key, Encoding.UTF8.GetBytes("k8s:enc:aescbc:v1:gone:" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(48))), CancellationToken.None);

        // The change behind it is applied: a create waits until the cache shows it, and it is readable.
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{_ns}/configmaps", """{"metadata":{"name":"after"}}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync($"/api/v1/namespaces/{_ns}/configmaps/after")).Status);

        // A watch that was following the resource ends, so its client lists again and learns of the key.
        using (var ended = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await using var stream = await watch.Content.ReadAsStreamAsync(ended.Token);
            var buffer = new byte[4096];
            while (await stream.ReadAsync(buffer, ended.Token) > 0)
            {
            }
        }

        var (status, body) = await server.GetAsync($"/api/v1/namespaces/{_ns}/secrets/bad");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal("InternalError", (string?)body!["reason"]);
        Assert.Contains($"StorageError: corrupt object, Code: 7, Key: {key}", (string?)body["message"], StringComparison.Ordinal);
        Assert.Contains("aescbc key gone", (string?)body["message"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync($"/api/v1/namespaces/{_ns}/secrets/good")).Status);

        (status, body) = await server.GetAsync($"/api/v1/namespaces/{_ns}/secrets");
        AssertStoreReadError(status, body, key);
        (status, body) = await server.GetAsync($"/api/v1/namespaces/{_ns}/secrets?watch=true");
        AssertStoreReadError(status, body, key);
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync("/api/v1/namespaces/default/secrets")).Status);

        // The normal delete needs the object; the unsafe one refuses an object the server can read.
        (status, body) = await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{_ns}/secrets/bad");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("corrupt object", (string?)body!["message"], StringComparison.Ordinal);
        (status, body) = await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{_ns}/secrets/good", UnsafeDelete);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("ignoreStoreReadErrorWithClusterBreakingPotential: Invalid value: true: is exclusively used to delete corrupt object(s)", (string?)body!["message"], StringComparison.Ordinal);

        // A user who may delete Secrets still needs the unsafe verb.
        var user = "cleaner-" + _ns;
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/apis/rbac.authorization.k8s.io/v1/namespaces/{_ns}/roles",
            """{"metadata":{"name":"cleaner"},"rules":[{"apiGroups":[""],"resources":["secrets"],"verbs":["get","list","delete"]}]}""")).Status);
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/apis/rbac.authorization.k8s.io/v1/namespaces/{_ns}/rolebindings",
            $$$"""{"metadata":{"name":"cleaner"},"subjects":[{"kind":"User","name":"{{{user}}}","apiGroup":"rbac.authorization.k8s.io"}],"roleRef":{"kind":"Role","name":"cleaner","apiGroup":"rbac.authorization.k8s.io"}}""")).Status);
        (status, body) = await DeleteAsAsync(user, $"/api/v1/namespaces/{_ns}/secrets/bad");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains($"User \"{user}\" cannot unsafe-delete-ignore-read-errors resource \"secrets\"", (string?)body!["message"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Put, $"/apis/rbac.authorization.k8s.io/v1/namespaces/{_ns}/roles/cleaner",
            """{"metadata":{"name":"cleaner"},"rules":[{"apiGroups":[""],"resources":["secrets"],"verbs":["get","list","delete","unsafe-delete-ignore-read-errors"]}]}""")).Status);
        (status, body) = await DeleteAsAsync(user, $"/api/v1/namespaces/{_ns}/secrets/bad");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Success", (string?)body!["status"]);

        Assert.Null(await server.Store.GetAsync(key, 0, CancellationToken.None));
        (status, body) = await server.GetAsync($"/api/v1/namespaces/{_ns}/secrets");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["good"], body!["items"]!.AsArray().Select(i => (string?)i!["metadata"]!["name"]));
        Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync($"/api/v1/namespaces/{_ns}/secrets/bad")).Status);

        // The name is free again, and what is written under it now reads back.
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{_ns}/secrets", """{"metadata":{"name":"bad"},"stringData":{"k":"again"}}""")).Status);
        (status, body) = await server.GetAsync($"/api/v1/namespaces/{_ns}/secrets/bad");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Convert.ToBase64String("again"u8), (string?)body!["data"]!["k"]);
    }

    [Fact]
    public async Task UndecodableConfigMap_ListFailsNamingIt_UntilDeletedUnsafely()
    {
        await CreateNamespaceAsync();
        var key = $"/registry/configmaps/{_ns}/broken";
        await server.Store.CreateAsync(key, "{\"kind\":\"ConfigMap\",\"metadata\":"u8.ToArray(), CancellationToken.None);
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{_ns}/configmaps", """{"metadata":{"name":"fine"}}""")).Status);

        var (status, body) = await server.GetAsync($"/api/v1/namespaces/{_ns}/configmaps/broken");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("object not decodable", (string?)body!["message"], StringComparison.Ordinal);
        (status, body) = await server.GetAsync($"/api/v1/namespaces/{_ns}/configmaps");
        AssertStoreReadError(status, body, key);
        (status, body) = await server.GetAsync($"/api/v1/configmaps?limit=500");
        AssertStoreReadError(status, body, key);

        // A dry run deletes nothing; then the query-parameter form deletes it.
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{_ns}/configmaps/broken?dryRun=All", UnsafeDelete)).Status);
        Assert.NotNull(await server.Store.GetAsync(key, 0, CancellationToken.None));
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{_ns}/configmaps/broken?ignoreStoreReadErrorWithClusterBreakingPotential=true")).Status);
        (status, body) = await server.GetAsync($"/api/v1/namespaces/{_ns}/configmaps");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["fine"], body!["items"]!.AsArray().Select(i => (string?)i!["metadata"]!["name"]));
    }

    private const string UnsafeDelete = """{"kind":"DeleteOptions","apiVersion":"v1","ignoreStoreReadErrorWithClusterBreakingPotential":true}""";

    private static void AssertStoreReadError(HttpStatusCode status, JsonObject? body, string key)
    {
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal("StorageReadError", (string?)body!["reason"]);
        Assert.StartsWith("failed to read one or more ", (string?)body["message"], StringComparison.Ordinal);
        var cause = Assert.Single(body["details"]!["causes"]!.AsArray());
        Assert.Equal(key, (string?)cause!["field"]);
        Assert.Equal("UnexpectedServerResponse", (string?)cause["reason"]);
    }

    private async Task CreateNamespaceAsync() =>
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{_ns}}}"}}""")).Status);

    private async Task<(HttpStatusCode Status, JsonObject? Body)> DeleteAsAsync(string user, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, path) { Content = new StringContent(UnsafeDelete, Encoding.UTF8, "application/json") };
        request.Headers.Add("Impersonate-User", user);
        using var response = await server.Client.SendAsync(request);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())?.AsObject());
    }
}
