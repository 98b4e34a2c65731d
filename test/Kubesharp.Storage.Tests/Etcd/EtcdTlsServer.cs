using Kubesharp.Storage.Etcd;

namespace Kubesharp.Storage.Tests.Etcd;

/// <summary>A real etcd serving clients over TLS with client-certificate authentication, with certificates made for the test.</summary>
public sealed class EtcdTlsServer : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kubesharp-etcd-pki-" + Guid.NewGuid().ToString("N"));
    private readonly EtcdServer _server;

    public EtcdTlsServer()
    {
        Certificates = TestCertificates.Create(_directory);
        _server = new EtcdServer(Certificates);
    }

    internal TestCertificates Certificates { get; }

    public string Endpoint => _server.Endpoint;

    public EtcdStoreOptions StoreOptions(TimeSpan? requestTimeout = null) => _server.StoreOptions(requestTimeout);

    public Task InitializeAsync() => _server.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
