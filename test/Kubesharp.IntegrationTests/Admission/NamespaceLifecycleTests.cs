using System.Net;
using System.Runtime.CompilerServices;
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

    protected override IStore ServedStore(IStore store) => new WatchWithout(store, "/registry/namespaces/" + LaggingNamespace);

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

    /// <summary>The store, except that its watch never carries the key given: a watch cache that lags behind for it.</summary>
    private sealed class WatchWithout(IStore store, string heldKey) : IStore
    {
        public Task<long> GetCurrentRevisionAsync(CancellationToken cancellationToken) => store.GetCurrentRevisionAsync(cancellationToken);

        public Task<KeyValue?> GetAsync(string key, long revision, CancellationToken cancellationToken) => store.GetAsync(key, revision, cancellationToken);

        public Task<ListResult> ListAsync(string prefix, ListOptions options, CancellationToken cancellationToken) => store.ListAsync(prefix, options, cancellationToken);

        public Task<KeyValue> CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken) => store.CreateAsync(key, value, cancellationToken);

        public Task<KeyValue> UpdateAsync(string key, ReadOnlyMemory<byte> value, long expectedModRevision, CancellationToken cancellationToken) => store.UpdateAsync(key, value, expectedModRevision, cancellationToken);

        public Task<KeyValue> DeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken) => store.DeleteAsync(key, expectedModRevision, cancellationToken);

        public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var change in store.WatchAsync(prefix, afterRevision, cancellationToken).ConfigureAwait(false))
            {
                if (change.Current.Key != heldKey)
                {
                    yield return change;
                }
            }
        }

        public Task CompactAsync(long revision, CancellationToken cancellationToken) => store.CompactAsync(revision, cancellationToken);

        public Task<long> GetCompactedRevisionAsync(CancellationToken cancellationToken) => store.GetCompactedRevisionAsync(cancellationToken);

        // The test server disposes the store it opened.
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
