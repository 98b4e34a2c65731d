using System.Text;
using Kubesharp.Storage.Etcd;
using Kubesharp.Storage.Sqlite;

namespace Kubesharp.Storage.Tests.Etcd;

/// <summary>The etcd store over TLS with a client certificate, against a real etcd started with --client-cert-auth.</summary>
public sealed class EtcdTlsTests(EtcdTlsServer etcd) : IClassFixture<EtcdTlsServer>, IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Open_CaAndClientCertificate_WritesReadsAndWatches()
    {
        await using var store = await EtcdStore.OpenAsync(etcd.StoreOptions(), default);
        var prefix = $"/tls/{Guid.NewGuid():N}/";
        var created = await store.CreateAsync(prefix + "a", Encoding.UTF8.GetBytes("one"), default);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watch = store.WatchAsync(prefix, created.ModRevision - 1, cancel.Token).GetAsyncEnumerator(cancel.Token);
        try
        {
            Assert.True(await watch.MoveNextAsync());
            Assert.Equal(prefix + "a", watch.Current.Current.Key);
        }
        finally
        {
            await watch.DisposeAsync();
        }

        var read = await store.GetAsync(prefix + "a", 0, default);
        Assert.Equal("one", Encoding.UTF8.GetString(read!.Value.Span));
    }

    [Fact]
    public async Task Open_HttpsEndpointWithoutUseTls_SpeaksTls()
    {
        var options = etcd.StoreOptions();
        await using var store = await EtcdStore.OpenAsync(
            new EtcdStoreOptions { Endpoints = ["https://" + etcd.Endpoint], CaFile = options.CaFile, CertFile = options.CertFile, KeyFile = options.KeyFile },
            default);
        Assert.True(await store.GetCurrentRevisionAsync(default) > 0);
    }

    [Fact]
    public async Task Open_WithoutClientCertificate_ThrowsStoreUnavailable()
    {
        var options = etcd.StoreOptions(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => EtcdStore.OpenAsync(
            new EtcdStoreOptions { Endpoints = options.Endpoints, UseTls = true, CaFile = options.CaFile, RequestTimeout = options.RequestTimeout },
            default));
    }

    [Fact]
    public async Task Open_ServerSignedByAnotherCa_ThrowsStoreUnavailable()
    {
        var stranger = TestCertificates.Create(Path.Combine(_directory.Path, "other-pki"), "some other CA");
        var options = etcd.StoreOptions(TimeSpan.FromSeconds(5));
        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => EtcdStore.OpenAsync(
            new EtcdStoreOptions
            {
                Endpoints = options.Endpoints,
                UseTls = true,
                CaFile = stranger.CaFile,
                CertFile = options.CertFile,
                KeyFile = options.KeyFile,
                RequestTimeout = options.RequestTimeout,
            },
            default));
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task Open_PlainHttpToTlsServer_ThrowsStoreUnavailable()
    {
        await Assert.ThrowsAsync<StoreUnavailableException>(() => EtcdStore.OpenAsync(
            new EtcdStoreOptions { Endpoints = [etcd.Endpoint], RequestTimeout = TimeSpan.FromSeconds(5) }, default));
    }

    [Fact]
    public async Task Migrate_HttpsEtcdToSqliteWithTlsFlags_CopiesEveryKey()
    {
        var prefix = $"/registry/tls-{Guid.NewGuid():N}/";
        await using (var etcdStore = await EtcdStore.OpenAsync(etcd.StoreOptions(), default))
        {
            await etcdStore.CreateAsync(prefix + "one", Encoding.UTF8.GetBytes("1"), default);
            await etcdStore.CreateAsync(prefix + "two", Encoding.UTF8.GetBytes("2"), default);
        }

        var target = Path.Combine(_directory.Path, "target.db");
        var certificates = etcd.Certificates;
        var (exit, output, error) = await DatastoreCommandTests.RunAsync(
            "datastore", "migrate", "--from", "https://" + etcd.Endpoint, "--to", "sqlite://" + target,
            "--datastore-cafile", certificates.CaFile, "--datastore-certfile", certificates.ClientCertFile, "--datastore-keyfile", certificates.ClientKeyFile);

        Assert.True(exit == 0, error);
        Assert.Contains("migrated", output, StringComparison.Ordinal);
        await using var copy = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = target, CompactionInterval = TimeSpan.Zero }, default);
        var list = await copy.ListAsync(prefix, new ListOptions(), default);
        Assert.Equal([prefix + "one", prefix + "two"], list.Items.Select(i => i.Key));
    }

    [Fact]
    public async Task Backup_HttpsEtcdWithoutTlsFiles_FailsWithOneLine()
    {
        var (exit, _, error) = await DatastoreCommandTests.RunAsync(
            "datastore", "backup", Path.Combine(_directory.Path, "b.db"), "--datastore-endpoint", "https://" + etcd.Endpoint);

        Assert.Equal(1, exit);
        Assert.StartsWith("kubesharp datastore: etcd is unavailable", error, StringComparison.Ordinal);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
