using Kubesharp.Api;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.E2ETests;

/// <summary>An API server on a random loopback port (SQLite in a temp directory) that the real kubectl talks to.</summary>
public sealed class KubectlServer : IAsyncLifetime
{
    private SqliteStore? _store;

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "kubesharp-e2e-" + Guid.NewGuid().ToString("N"));

    public ApiServerHost Host { get; private set; } = null!;

    public string Kubeconfig => Host.KubeconfigPath;

    public async Task InitializeAsync()
    {
        _store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(DataDir, "db", "state.db") }, CancellationToken.None);
        Host = await ApiServerHost.StartAsync(
            new ApiServerOptions { DataDir = DataDir, HttpsPort = 0 },
            _store,
            BuiltinResources.Complete(ApiCatalog.Resources),
            OpenApiEndpoint.BuiltIn(),
            NullLoggerFactory.Instance,
            TimeProvider.System,
            CancellationToken.None);
        await Host.Ready;
    }

    public async Task DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class KubectlCollection : ICollectionFixture<KubectlServer>
{
    public const string Name = "kubectl";
}
