using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Api;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.IntegrationTests;

/// <summary>An in-process API server on a random loopback port over a SQLite file in a temp directory.</summary>
public class TestServer : IAsyncLifetime
{
    private SqliteStore? _store;

    /// <summary>Watch events kept per resource.</summary>
    protected virtual int HistoryLimit => 1000;

    /// <summary>Whether requests without credentials are served as system:anonymous.</summary>
    protected virtual bool AnonymousAuth => false;

    /// <summary>A path to an EncryptionConfiguration, written by the subclass before the server starts; null = none.</summary>
    protected virtual string? EncryptionProviderConfig => null;

    /// <summary>Which admission plugins run; null = the defaults.</summary>
    protected virtual Kubesharp.ApiServer.Admission.AdmissionOptions? Admission => null;

    /// <summary>The OpenAPI documents the server publishes besides the custom resources'; null = none.</summary>
    protected virtual OpenApiEndpoint? OpenApi => null;

    /// <summary>API Priority and Fairness on (the default), or the max-in-flight limits (read-only, mutating) instead.</summary>
    protected virtual (bool PriorityAndFairness, int ReadOnly, int Mutating) Overload => (true, 400, 200);

    /// <summary>The store the server is given: the SQLite store itself, or a layer over it a test puts between.</summary>
    protected virtual Kubesharp.Storage.IStore ServedStore(Kubesharp.Storage.IStore store) => store;

    /// <summary>The store under the server, for tests that write into it as a broken or foreign writer would.</summary>
    public Kubesharp.Storage.IStore Store => _store!;

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "kubesharp-it-" + Guid.NewGuid().ToString("N"));

    public ApiServerHost Host { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public HttpClient Anonymous { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(DataDir, "db", "state.db") }, CancellationToken.None);
        Host = await ApiServerHost.StartAsync(
            new ApiServerOptions { DataDir = DataDir, HttpsPort = 0, WatchCacheEventsPerResource = HistoryLimit, AnonymousAuth = AnonymousAuth, EnablePriorityAndFairness = Overload.PriorityAndFairness, MaxRequestsInflight = Overload.ReadOnly, MaxMutatingRequestsInflight = Overload.Mutating, EncryptionProviderConfig = EncryptionProviderConfig, Admission = Admission ?? new() },
            ServedStore(_store),
            BuiltinResources.Complete(ApiCatalog.Resources),
            OpenApi,
            NullLoggerFactory.Instance,
            TimeProvider.System,
            CancellationToken.None);
        await Host.Ready;
        var ca = X509Certificate2.CreateFromPem(Host.Certificates.CaPem);
        using var admin = X509Certificate2.CreateFromPem(Host.Certificates.AdminCertificatePem, Host.Certificates.AdminKeyPem);
        Client = NewClient(ca, X509CertificateLoader.LoadPkcs12(admin.Export(X509ContentType.Pkcs12), null));
        Anonymous = NewClient(ca, null);
    }

    /// <summary>A client with a certificate the cluster CA issued for <paramref name="certificatePem"/>'s user.</summary>
    public HttpClient CertificateClient(string certificatePem, string keyPem)
    {
        using var pem = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        return NewClient(X509Certificate2.CreateFromPem(Host.Certificates.CaPem), X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null));
    }

    private HttpClient NewClient(X509Certificate2 ca, X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            if (certificate is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }

        return new HttpClient(handler) { BaseAddress = Host.Url, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task<(HttpStatusCode Status, JsonObject? Body)> SendAsync(HttpMethod method, string path, string? body = null, string contentType = "application/json", string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonNode.Parse(text)!.AsObject() : null);
    }

    public Task<(HttpStatusCode Status, JsonObject? Body)> GetAsync(string path, string? accept = null) => SendAsync(HttpMethod.Get, path, accept: accept);

    public Task<(HttpStatusCode Status, JsonObject? Body)> PostAsync(string path, string body) => SendAsync(HttpMethod.Post, path, body);

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        Anonymous?.Dispose();
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
