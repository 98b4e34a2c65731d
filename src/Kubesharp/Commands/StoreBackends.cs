using Kubesharp.Storage;
using Kubesharp.Storage.Etcd;
using Kubesharp.Storage.Sqlite;

namespace Kubesharp.Commands;

/// <summary>The store backends this executable ships, by endpoint scheme.</summary>
internal static class StoreBackends
{
    /// <param name="keepsRevisions">
    /// Object history is on: the API server compacts the store where its window opens, so the SQLite store does not
    /// compact itself a short way behind its head.
    /// </param>
    public static StoreFactory CreateFactory(bool keepsRevisions = false) => new StoreFactory()
        .Register(DatastoreEndpoint.SqliteScheme, async (endpoint, cancellationToken) =>
            await SqliteStore.OpenAsync(
                new SqliteStoreOptions { Path = endpoint.Address, CompactionInterval = keepsRevisions ? TimeSpan.Zero : TimeSpan.FromMinutes(1) },
                cancellationToken).ConfigureAwait(false))
        .Register(DatastoreEndpoint.EtcdScheme, async (endpoint, cancellationToken) =>
            await EtcdStore.OpenAsync(
                new EtcdStoreOptions
                {
                    Endpoints = endpoint.Hosts,
                    UseTls = endpoint.UseTls,
                    CaFile = endpoint.Tls?.CaFile,
                    CertFile = endpoint.Tls?.CertFile,
                    KeyFile = endpoint.Tls?.KeyFile,
                },
                cancellationToken).ConfigureAwait(false));

    /// <summary>Opens the store named by <paramref name="endpointUrl"/> (null: the SQLite file in <paramref name="dataDirectory"/>).</summary>
    public static Task<IStore> OpenAsync(string? endpointUrl, string dataDirectory, CancellationToken cancellationToken) =>
        OpenAsync(endpointUrl, dataDirectory, tls: null, cancellationToken);

    /// <summary>Opens the store named by <paramref name="endpointUrl"/>, with TLS files for etcd.</summary>
    public static Task<IStore> OpenAsync(string? endpointUrl, string dataDirectory, DatastoreTls? tls, CancellationToken cancellationToken) =>
        OpenAsync(endpointUrl, dataDirectory, tls, keepsRevisions: false, cancellationToken);

    /// <summary>Opens the store for a server; with <paramref name="keepsRevisions"/> its revisions are compacted by object history.</summary>
    public static Task<IStore> OpenAsync(string? endpointUrl, string dataDirectory, DatastoreTls? tls, bool keepsRevisions, CancellationToken cancellationToken) =>
        CreateFactory(keepsRevisions).OpenAsync(DatastoreEndpoint.Parse(endpointUrl, dataDirectory, tls), cancellationToken);
}
