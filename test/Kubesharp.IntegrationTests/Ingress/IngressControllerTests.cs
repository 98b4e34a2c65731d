using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.Api.Networking.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Ingress;
using Kubesharp.IntegrationTests.ApiServer;
using IPAddress = System.Net.IPAddress;
using IngressObject = Kubesharp.Api.Networking.V1.Ingress;
using NetworkingBackend = Kubesharp.Api.Networking.V1.IngressBackend;

namespace Kubesharp.IntegrationTests.Ingress;

/// <summary>
/// The built-in ingress controller against an in-process API server, forwarding to real HTTP servers registered as
/// the EndpointSlice endpoints of Services.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "xunit disposes through IAsyncLifetime")]
[Collection(ServerCollection.Name)]
public sealed class IngressControllerTests(TestServer server) : IAsyncLifetime
{
    private const string NodeAddress = "192.0.2.10";

    private readonly string id = Guid.NewGuid().ToString("N")[..8];
    private readonly CancellationTokenSource stopping = new();
    private readonly List<TestBackend> backends = [];
    private KubernetesClient client = null!;
    private SharedInformerFactory informers = null!;
    private IngressController controller = null!;
    private Task running = Task.CompletedTask;
    private IPEndPoint http = null!;
    private IPEndPoint https = null!;
    private HttpClient web = null!;
    private X509Certificate2? presented;

    private string Ns => "ing" + id;

    public async Task InitializeAsync()
    {
        client = new KubernetesClient(new KubernetesClientOptions
        {
            Server = server.Host.Url,
            CertificateAuthorityPem = server.Host.Certificates.CaPem,
            ClientCertificatePem = server.Host.Certificates.AdminCertificatePem,
            ClientKeyPem = server.Host.Certificates.AdminKeyPem,
        });
        await client.Resource<Namespace>().CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = Ns } });
        informers = new SharedInformerFactory(client);
        controller = new IngressController(client, informers, new IngressOptions
        {
            HttpEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
            HttpsEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
            StatusAddresses = [NodeAddress],
        });
        running = controller.RunAsync(stopping.Token);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        (http, https) = await controller.ListeningAsync(timeout.Token);

        // Every request goes to the controller's listeners, whatever host the URL names (as DNS pointing at a node would).
        var handler = new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero };
        handler.ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(context.DnsEndPoint.Port == 443 ? https : http, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            // Trust is not the point here: which certificate the controller chose is (compared by the tests).
            presented = certificate is null ? null : new X509Certificate2(certificate);
            return presented is not null;
        };
        web = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        foreach (var ingress in (await client.Resource<IngressObject>().ListAsync(Ns)).Items)
        {
            await client.Resource<IngressObject>().DeleteAsync(Ns, ingress.Metadata!.Name!);
        }

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

        web.Dispose();
        client.Dispose();
        stopping.Dispose();
    }

    [Fact]
    public async Task TwoHosts_RoutedToTheirServices_DefaultClassAssigned()
    {
        await ServiceAsync("svc-a", await BackendAsync("a"));
        await ServiceAsync("svc-b", await BackendAsync("b"));

        var created = await CreateIngressAsync("hosts", null,
            Rule("foo.test", Path("/", "Prefix", "svc-a")),
            Rule("bar.test", Path("/", "Prefix", "svc-b")));

        Assert.Equal(IngressOptions.DefaultClassName, created.Spec!.IngressClassName);
        Assert.StartsWith("a /x host=foo.test", await EventuallyAsync("http://foo.test/x", body => body.StartsWith('a')));
        Assert.StartsWith("b /y host=bar.test proto=http", await GetAsync("http://bar.test/y"));
        Assert.Equal(HttpStatusCode.NotFound, (await web.GetAsync(new Uri("http://nobody.test/"))).StatusCode);
    }

    [Fact]
    public async Task ExactAndPrefix_LongestMatchWins_ImplementationSpecificIsPrefix()
    {
        await ServiceAsync("root", await BackendAsync("root"));
        await ServiceAsync("api", await BackendAsync("api"));
        await ServiceAsync("v2", await BackendAsync("v2"));

        await CreateIngressAsync("paths", null, Rule("paths.test",
            Path("/", "Prefix", "root"),
            Path("/api", "Exact", "api"),
            Path("/api/v2", "Prefix", "v2"),
            Path("/docs", "ImplementationSpecific", "api")));

        await EventuallyAsync("http://paths.test/api", body => body.StartsWith("api ", StringComparison.Ordinal));
        Assert.StartsWith("root /api/x", await GetAsync("http://paths.test/api/x"));
        Assert.StartsWith("v2 /api/v2", await GetAsync("http://paths.test/api/v2"));
        Assert.StartsWith("v2 /api/v2/items", await GetAsync("http://paths.test/api/v2/items"));
        Assert.StartsWith("root /api/v2x", await GetAsync("http://paths.test/api/v2x"));
        Assert.StartsWith("api /docs/intro", await GetAsync("http://paths.test/docs/intro"));
        Assert.StartsWith("root /docsx", await GetAsync("http://paths.test/docsx"));
    }

    [Fact]
    public async Task TlsHost_ServedWithTheSecretsCertificateBySni()
    {
        await ServiceAsync("secure", await BackendAsync("secure"));
        using var certificate = SelfSigned("secure.test");
        await client.Resource<Secret>().CreateAsync(new Secret
        {
            Metadata = new ObjectMeta { Name = "secure-tls", Namespace = Ns },
            Type = "kubernetes.io/tls",
            Data = new()
            {
                ["tls.crt"] = Encoding.UTF8.GetBytes(certificate.ExportCertificatePem()),
                ["tls.key"] = Encoding.UTF8.GetBytes(certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem()),
            },
        });

        var ingress = Ingress("tls", null, Rule("secure.test", Path("/", "Prefix", "secure")));
        ingress.Spec!.Tls = [new IngressTLS { Hosts = ["secure.test"], SecretName = "secure-tls" }];
        await client.Resource<IngressObject>().CreateAsync(ingress);

        Assert.StartsWith("secure / host=secure.test proto=https", await EventuallyAsync("https://secure.test/", body => body.StartsWith("secure", StringComparison.Ordinal) && presented?.Thumbprint == certificate.Thumbprint));
        Assert.Equal(certificate.Thumbprint, presented!.Thumbprint);

        // Another name gets the controller's own certificate, not the Secret's.
        Assert.Equal(HttpStatusCode.NotFound, (await web.GetAsync(new Uri("https://other.test/"))).StatusCode);
        Assert.NotEqual(certificate.Thumbprint, presented!.Thumbprint);
    }

    [Fact]
    public async Task DefaultBackend_ServesWhatNoRuleMatches()
    {
        await ServiceAsync("named", await BackendAsync("named"));
        await ServiceAsync("fallback", await BackendAsync("fallback"));
        var ingress = Ingress("fallback", null, Rule("named.test", Path("/", "Prefix", "named")));
        ingress.Spec!.DefaultBackend = Backend("fallback");
        await client.Resource<IngressObject>().CreateAsync(ingress);

        Assert.StartsWith("fallback /anything", await EventuallyAsync("http://unknown.test/anything", body => body.StartsWith("fallback", StringComparison.Ordinal)));
        Assert.StartsWith("named /", await GetAsync("http://named.test/"));
    }

    [Fact]
    public async Task EndpointRemoval_TakesEffect_NoReadyEndpointsIs503()
    {
        var one = await BackendAsync("one");
        var two = await BackendAsync("two");
        await ServiceAsync("pool", one);
        await SliceAsync("pool", "pool-two", two, ready: true);
        await CreateIngressAsync("pool", null, Rule("pool.test", Path("/", "Prefix", "pool")));

        // Both endpoints take requests in turn.
        await EventuallyAsync("http://pool.test/", body => body.StartsWith("two", StringComparison.Ordinal));
        await EventuallyAsync("http://pool.test/", body => body.StartsWith("one", StringComparison.Ordinal));

        await SliceAsync("pool", "pool-two", two, ready: false);
        await EventuallyAsync("http://pool.test/", _ => true, async () =>
        {
            var seen = new HashSet<string>();
            for (var i = 0; i < 6; i++)
            {
                seen.Add((await GetAsync("http://pool.test/")).Split(' ')[0]);
            }

            return seen.SetEquals(["one"]);
        });

        await client.Resource<EndpointSlice>().DeleteAsync(Ns, "pool-one");
        await client.Resource<EndpointSlice>().DeleteAsync(Ns, "pool-two");
        await EventuallyStatusAsync("http://pool.test/", HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task Status_FilledWithTheNodeAddress_OnlyForServedClasses()
    {
        await ServiceAsync("status", await BackendAsync("status"));
        await CreateIngressAsync("served", null, Rule("status.test", Path("/", "Prefix", "status")));
        await CreateIngressAsync("foreign", "someone-else", Rule("foreign.test", Path("/", "Prefix", "status")));

        var ingresses = client.Resource<IngressObject>();
        for (var i = 0; i < 500; i++)
        {
            var served = await ingresses.GetAsync(Ns, "served");
            if (served.Status?.LoadBalancer?.Ingress is { Count: > 0 } reported)
            {
                Assert.Equal(NodeAddress, Assert.Single(reported).Ip);
                break;
            }

            Assert.True(i < 499, "the served Ingress never got a status");
            await Task.Delay(20);
        }

        Assert.Null((await ingresses.GetAsync(Ns, "foreign")).Status?.LoadBalancer?.Ingress);
        Assert.Equal(HttpStatusCode.NotFound, (await web.GetAsync(new Uri("http://foreign.test/"))).StatusCode);
    }

    [Fact]
    public async Task InvalidIngress_RefusedWith422()
    {
        var bad = Ingress("bad", null, Rule("10.0.0.1", Path("relative", "Prefix", "x")));
        bad.Spec!.Rules![0].Http!.Paths![0].PathType = null;
        var error = await Assert.ThrowsAsync<StatusException>(() => client.Resource<IngressObject>().CreateAsync(bad));
        Assert.Equal(422, error.Code);
        Assert.Contains("spec.rules[0].host", error.Message, StringComparison.Ordinal);
        Assert.Contains("spec.rules[0].http.paths[0].pathType", error.Message, StringComparison.Ordinal);

        var neither = new IngressObject { Metadata = new ObjectMeta { Name = "empty", Namespace = Ns }, Spec = new IngressSpec() };
        error = await Assert.ThrowsAsync<StatusException>(() => client.Resource<IngressObject>().CreateAsync(neither));
        Assert.Equal(422, error.Code);
        Assert.Contains("either `defaultBackend` or `rules` must be specified", error.Message, StringComparison.Ordinal);

        var badClass = new IngressClass { Metadata = new ObjectMeta { Name = "bad-" + id }, Spec = new IngressClassSpec { Controller = "no-domain" } };
        error = await Assert.ThrowsAsync<StatusException>(() => client.Resource<IngressClass>().CreateAsync(badClass));
        Assert.Equal(422, error.Code);
    }

    private async Task<TestBackend> BackendAsync(string name)
    {
        var backend = await TestBackend.StartAsync(name);
        backends.Add(backend);
        return backend;
    }

    /// <summary>A Service without a selector and one EndpointSlice NAME-one holding the backend, as the endpoint controller would write it.</summary>
    private async Task ServiceAsync(string name, TestBackend backend)
    {
        await client.Resource<Service>().CreateAsync(new Service
        {
            Metadata = new ObjectMeta { Name = name, Namespace = Ns },
            Spec = new ServiceSpec { Ports = [new ServicePort { Name = "http", Port = 80, TargetPort = new IntOrString(8080) }] },
        });
        await SliceAsync(name, name + "-one", backend, ready: true);
    }

    private async Task SliceAsync(string service, string name, TestBackend backend, bool ready)
    {
        var slices = client.Resource<EndpointSlice>();
        var slice = new EndpointSlice
        {
            Metadata = new ObjectMeta { Name = name, Namespace = Ns, Labels = new() { ["kubernetes.io/service-name"] = service } },
            AddressType = "IPv4",
            Ports = [new Kubesharp.Api.Discovery.V1.EndpointPort { Name = "http", Port = backend.Port, Protocol = "TCP" }],
            Endpoints = [new Endpoint { Addresses = ["127.0.0.1"], Conditions = new EndpointConditions { Ready = ready } }],
        };
        try
        {
            await slices.CreateAsync(slice);
        }
        catch (StatusException e) when (e.IsAlreadyExists())
        {
            slice.Metadata.ResourceVersion = (await slices.GetAsync(Ns, name)).Metadata!.ResourceVersion;
            await slices.UpdateAsync(slice);
        }
    }

    private Task<IngressObject> CreateIngressAsync(string name, string? className, params IngressRule[] rules) =>
        client.Resource<IngressObject>().CreateAsync(Ingress(name, className, rules));

    private IngressObject Ingress(string name, string? className, params IngressRule[] rules) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = Ns },
        Spec = new IngressSpec { IngressClassName = className, Rules = [.. rules] },
    };

    private static IngressRule Rule(string host, params HTTPIngressPath[] paths) =>
        new() { Host = host, Http = new HTTPIngressRuleValue { Paths = [.. paths] } };

    private static HTTPIngressPath Path(string path, string type, string service) =>
        new() { Path = path, PathType = type, Backend = Backend(service) };

    private static NetworkingBackend Backend(string service) =>
        new() { Service = new IngressServiceBackend { Name = service, Port = new ServiceBackendPort { Number = 80 } } };

    private async Task<string> GetAsync(string url)
    {
        using var response = await web.GetAsync(new Uri(url));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {body}");
        return body;
    }

    /// <summary>
    /// Requests <paramref name="url"/> until the answer satisfies <paramref name="accept"/> (and <paramref name="also"/>):
    /// the controller applies changes asynchronously. Bounded to 500 attempts.
    /// </summary>
    private async Task<string> EventuallyAsync(string url, Func<string, bool> accept, Func<Task<bool>>? also = null)
    {
        var last = string.Empty;
        for (var attempt = 0; attempt < 500; attempt++)
        {
            using var response = await web.GetAsync(new Uri(url));
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

    private async Task EventuallyStatusAsync(string url, HttpStatusCode expected)
    {
        for (var attempt = 0; attempt < 500; attempt++)
        {
            using var response = await web.GetAsync(new Uri(url));
            if (response.StatusCode == expected)
            {
                return;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"{url} never answered {(int)expected}");
    }

    private static X509Certificate2 SelfSigned(string host)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + host, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(host);
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
    }
}
