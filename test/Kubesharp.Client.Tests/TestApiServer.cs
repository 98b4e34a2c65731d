using Kubesharp.Api;
using Kubesharp.ApiServer;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Client.Tests;

/// <summary>An in-process API server on a random loopback port over a temporary SQLite store.</summary>
internal sealed class TestApiServer : IAsyncDisposable
{
    private readonly string dataDir;
    private readonly SqliteStore store;
    private readonly int watchCacheEventsPerResource;
    private ApiServerHost host;

    private TestApiServer(string dataDir, SqliteStore store, ApiServerHost host, KubernetesClient client, int watchCacheEventsPerResource)
    {
        this.watchCacheEventsPerResource = watchCacheEventsPerResource;
        this.dataDir = dataDir;
        this.store = store;
        this.host = host;
        Client = client;
    }

    public KubernetesClient Client { get; }

    /// <summary>The store under the server: tests write objects the API would refuse straight into it.</summary>
    public Kubesharp.Storage.IStore Store => store;

    public string KubeconfigPath => host.KubeconfigPath;

    /// <summary>The server itself: its URL and cluster certificates, for clients under other identities.</summary>
    public ApiServerHost Host => host;

    public static async Task<TestApiServer> StartAsync(int watchCacheEventsPerResource = 1000)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(dataDir, "state.db") }, CancellationToken.None);
        var host = await StartHostAsync(dataDir, store, 0, watchCacheEventsPerResource);
        var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
        return new TestApiServer(dataDir, store, host, client, watchCacheEventsPerResource);
    }

    /// <summary>
    /// Stops the server, runs <paramref name="whileStopped"/>, then starts it again on the same port, data directory
    /// (so the same certificates) and store: the same server to its clients, as after a restart.
    /// </summary>
    public async Task RestartAsync(Func<Task> whileStopped)
    {
        ArgumentNullException.ThrowIfNull(whileStopped);
        var port = host.Url.Port;
        await host.DisposeAsync();
        await whileStopped();
        host = await StartHostAsync(dataDir, store, port, watchCacheEventsPerResource);
    }

    private static async Task<ApiServerHost> StartHostAsync(string dataDir, SqliteStore store, int port, int watchCacheEventsPerResource)
    {
        var host = await ApiServerHost.StartAsync(
            new ApiServerOptions { DataDir = dataDir, HttpsPort = port, WatchCacheEventsPerResource = watchCacheEventsPerResource },
            store,
            Kubesharp.ApiServer.Discovery.BuiltinResources.Complete(ApiCatalog.Resources),
            null,
            NullLoggerFactory.Instance,
            TimeProvider.System,
            CancellationToken.None);
        await host.Ready;
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await host.DisposeAsync();
        await store.DisposeAsync();
        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
