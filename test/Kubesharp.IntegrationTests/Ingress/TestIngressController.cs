using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Ingress;
using IPAddress = System.Net.IPAddress;

namespace Kubesharp.IntegrationTests.Ingress;

/// <summary>
/// The built-in ingress controller on loopback ports against the shared in-process API server, a namespace of its
/// own, real HTTP backends, and an HTTP client whose every request goes to the controller's listeners whatever host
/// the URL names (as DNS pointing at a node would).
/// </summary>
internal sealed class TestIngressController : IAsyncDisposable
{
    public const string NodeAddress = "192.0.2.10";

    private readonly CancellationTokenSource stopping = new();
    private readonly List<TestBackend> backends = [];
    private readonly SharedInformerFactory informers;
    private readonly IngressController controller;
    private Task running = Task.CompletedTask;
    private IPEndPoint http = null!;
    private IPEndPoint https = null!;

    private TestIngressController(KubernetesClient client, string ns)
    {
        Client = client;
        Namespace = ns;
        informers = new SharedInformerFactory(client);
        controller = new IngressController(client, informers, new IngressOptions
        {
            HttpEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
            HttpsEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
            StatusAddresses = [NodeAddress],
        });
        // Redirects are answers under test, not to be followed.
        var handler = new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero, AllowAutoRedirect = false };
        handler.ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(context.DnsEndPoint.Port == 443 ? https : http, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            // Trust is not the point here: which certificate the controller chose is (compared by the tests).
            Presented = certificate is null ? null : new X509Certificate2(certificate);
            return Presented is not null;
        };
        Web = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    public KubernetesClient Client { get; }

    public string Namespace { get; }

    public HttpClient Web { get; }

    /// <summary>The controller's HTTP listener.</summary>
    public IPEndPoint HttpEndpoint => http;

    /// <summary>The certificate the listener presented in the last TLS handshake.</summary>
    public X509Certificate2? Presented { get; private set; }

    public static async Task<TestIngressController> StartAsync(TestServer server, string ns)
    {
        var client = new KubernetesClient(new KubernetesClientOptions
        {
            Server = server.Host.Url,
            CertificateAuthorityPem = server.Host.Certificates.CaPem,
            ClientCertificatePem = server.Host.Certificates.AdminCertificatePem,
            ClientKeyPem = server.Host.Certificates.AdminKeyPem,
        });
        await client.Resource<Namespace>().CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = ns } });
        var harness = new TestIngressController(client, ns);
        harness.running = harness.controller.RunAsync(harness.stopping.Token);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        (harness.http, harness.https) = await harness.controller.ListeningAsync(timeout.Token);
        return harness;
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
        }

        await controller.DisposeAsync();
        await informers.DisposeAsync();
        foreach (var backend in backends)
        {
            await backend.DisposeAsync();
        }

        await Client.Resource<Namespace>().DeleteAsync(null, Namespace);
        Web.Dispose();
        Client.Dispose();
        stopping.Dispose();
    }

    /// <summary>A backend stopped with the harness.</summary>
    public async Task<TestBackend> BackendAsync(string name)
    {
        var backend = await TestBackend.StartAsync(name);
        backends.Add(backend);
        return backend;
    }

    public async Task<string> GetAsync(string url)
    {
        using var response = await Web.GetAsync(new Uri(url));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {body}");
        return body;
    }

    /// <summary>
    /// Requests <paramref name="url"/> until the answer satisfies <paramref name="accept"/> (and <paramref name="also"/>):
    /// the controller applies changes asynchronously. Bounded to 500 attempts.
    /// </summary>
    public async Task<string> EventuallyAsync(string url, Func<string, bool> accept, Func<Task<bool>>? also = null, Action<HttpRequestMessage>? prepare = null)
    {
        var last = string.Empty;
        for (var attempt = 0; attempt < 500; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url));
            prepare?.Invoke(request);
            using var response = await Web.SendAsync(request);
            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            if (response.IsSuccessStatusCode && accept(last[4..]) && (also is null || await also()))
            {
                return last[4..];
            }

            await Task.Delay(20);
        }

        Assert.Fail($"{url} never gave the expected answer; last: {last}");
        return last;
    }

    public async Task EventuallyStatusAsync(string url, HttpStatusCode expected)
    {
        for (var attempt = 0; attempt < 500; attempt++)
        {
            using var response = await Web.GetAsync(new Uri(url));
            if (response.StatusCode == expected)
            {
                return;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"{url} never answered {(int)expected}");
    }

    public static X509Certificate2 SelfSigned(string host)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + host, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(host);
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
    }

    /// <summary>A kubernetes.io/tls Secret holding the certificate and its key.</summary>
    public Task<Secret> TlsSecretAsync(string name, X509Certificate2 certificate) =>
        Client.Resource<Secret>().CreateAsync(new Secret
        {
            Metadata = new ObjectMeta { Name = name, Namespace = Namespace },
            Type = "kubernetes.io/tls",
            Data = new()
            {
                ["tls.crt"] = System.Text.Encoding.UTF8.GetBytes(certificate.ExportCertificatePem()),
                ["tls.key"] = System.Text.Encoding.UTF8.GetBytes(certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem()),
            },
        });
}
