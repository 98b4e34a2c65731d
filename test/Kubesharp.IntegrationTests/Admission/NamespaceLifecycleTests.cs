using System.Net;
using System.Text;
using Kubesharp.Storage;

namespace Kubesharp.IntegrationTests.Admission;

/// <summary>
/// A namespace another server made, which this server's watch cache has not seen yet (the watch of a namespace named
/// <see cref="LaggingNamespace"/> never reaches it here): creating in it must not be refused as "namespace not found".
/// </summary>
public sealed class NamespaceLifecycleTests : TestServer
{
    private const string LaggingNamespace = "made-elsewhere";

    // The test server disposes the store it opened, so this layer is never disposed.
    protected override IStore ServedStore(IStore store) => new ApiServer.HeldStore(store, holdPagedLists: false, watchWithout: "/registry/namespaces/" + LaggingNamespace);

    [Fact]
    public async Task Create_NamespaceStoredButNotYetCached_AdmittedFromTheStore()
    {
        // Written as another server of the cluster would: straight into the shared store.
        await Store.CreateAsync("/registry/namespaces/" + LaggingNamespace, Encoding.UTF8.GetBytes(
            $$$"""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"{{{LaggingNamespace}}}","uid":"{{{Guid.NewGuid()}}}","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}"""), CancellationToken.None);
        var (missing, _) = await GetAsync("/api/v1/namespaces/" + LaggingNamespace);
        Assert.Equal(HttpStatusCode.NotFound, missing);

        var (created, body) = await PostAsync($"/api/v1/namespaces/{LaggingNamespace}/configmaps", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"}}""");
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal(LaggingNamespace, (string?)body!["metadata"]!["namespace"]);

        var (refused, status) = await PostAsync("/api/v1/namespaces/nowhere/configmaps", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"}}""");
        Assert.Equal(HttpStatusCode.NotFound, refused);
        Assert.Equal("namespaces", (string?)status!["details"]!["kind"]);
    }
}
