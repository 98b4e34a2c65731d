using System.Net;

namespace Kubesharp.IntegrationTests.ApiServer;

[Collection(ServerCollection.Name)]
public sealed class HostTests(TestServer server)
{
    [Theory]
    [InlineData("/readyz")]
    [InlineData("/livez")]
    [InlineData("/healthz")]
    public async Task HealthEndpoint_WithoutCredentials_AnswersOk(string path)
    {
        using var response = await server.Anonymous.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readyz_Verbose_ListsChecks()
    {
        var text = await server.Anonymous.GetStringAsync("/readyz?verbose");
        Assert.Contains("[+]ping ok", text, StringComparison.Ordinal);
        Assert.Contains("readyz check passed", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_WithoutCredentials_ReportsGitVersion()
    {
        var text = await server.Anonymous.GetStringAsync("/version");
        Assert.Contains("\"gitVersion\":\"v1.32", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_WithoutCredentials_Answers401Status()
    {
        using var response = await server.Anonymous.GetAsync("/api/v1/namespaces");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"reason\":\"Unauthorized\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_WithBearerTokenFromTokenFile_IsAuthenticated()
    {
        var line = File.ReadAllLines(Path.Combine(server.DataDir, "server", "token-auth.csv"))[0];
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/default");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", line.Split(',')[0]);
        using var response = await server.Anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Api_WithWrongBearerToken_Answers401()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-a-token");
        using var response = await server.Anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public void Kubeconfig_IsWrittenWithEmbeddedCredentials()
    {
        var text = File.ReadAllText(server.Host.KubeconfigPath);
        Assert.Contains("certificate-authority-data:", text, StringComparison.Ordinal);
        Assert.Contains("client-key-data:", text, StringComparison.Ordinal);
        Assert.Contains(server.Host.Url.ToString().TrimEnd('/'), text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SystemNamespacesAndKubernetesService_ExistAfterStart()
    {
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            var (status, _) = await server.GetAsync($"/api/v1/namespaces/{ns}");
            Assert.Equal(HttpStatusCode.OK, status);
        }

        var (svcStatus, service) = await server.GetAsync("/api/v1/namespaces/default/services/kubernetes");
        Assert.Equal(HttpStatusCode.OK, svcStatus);
        Assert.Equal("10.43.0.1", (string?)service!["spec"]!["clusterIP"]);
        Assert.Equal(443, (int?)service["spec"]!["ports"]![0]!["port"]);
    }

    [Fact]
    public async Task ReleaseStartupMemoryAsync_WithGarbageOnTheHeap_CollectsIt()
    {
        // Garbage like start-up's: objects that lived through collections into the oldest generation, then died. Only
        // a full collection frees them; the heap's size is no measure here, as the other tests of the process allocate.
        var garbage = Fill(64);
        var fullCollections = GC.CollectionCount(GC.MaxGeneration);

        await server.Host.ReleaseStartupMemoryAsync(CancellationToken.None);

        Assert.True(GC.CollectionCount(GC.MaxGeneration) > fullCollections);
        Assert.False(garbage.IsAlive);
    }

    private static WeakReference Fill(int megabytes)
    {
        // Small-object heap chunks (64 kB, below the large-object threshold), alive together until this returns.
        var chunks = new byte[megabytes * 16][];
        for (var i = 0; i < chunks.Length; i++)
        {
            chunks[i] = new byte[64 << 10];
            chunks[i][^1] = 1;
        }

        GC.Collect(1, GCCollectionMode.Forced, blocking: true);
        GC.Collect(1, GCCollectionMode.Forced, blocking: true);
        Assert.Equal(GC.MaxGeneration, GC.GetGeneration(chunks));
        return new WeakReference(chunks);
    }
}
