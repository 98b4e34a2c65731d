using System.Net;
using System.Security.Cryptography.X509Certificates;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.Api.Networking.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Ingress;
using Kubesharp.IntegrationTests.ApiServer;
using IngressObject = Kubesharp.Api.Networking.V1.Ingress;
using NetworkingBackend = Kubesharp.Api.Networking.V1.IngressBackend;

namespace Kubesharp.IntegrationTests.Ingress;

/// <summary>
/// The built-in ingress controller against an in-process API server, forwarding to real HTTP servers registered as
/// the EndpointSlice endpoints of Services.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class IngressControllerTests(TestServer server) : IAsyncLifetime
{
    private const string NodeAddress = TestIngressController.NodeAddress;

    private readonly string id = Guid.NewGuid().ToString("N")[..8];
    private TestIngressController harness = null!;

    private string Ns => "ing" + id;

    private KubernetesClient Client => harness.Client;

    private HttpClient Web => harness.Web;

    private X509Certificate2? Presented => harness.Presented;

    public async Task InitializeAsync() => harness = await TestIngressController.StartAsync(server, Ns);

    public async Task DisposeAsync()
    {
        foreach (var ingress in (await Client.Resource<IngressObject>().ListAsync(Ns)).Items)
        {
            await Client.Resource<IngressObject>().DeleteAsync(Ns, ingress.Metadata!.Name!);
        }

        await harness.DisposeAsync();
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
        Assert.Equal(HttpStatusCode.NotFound, (await Web.GetAsync(new Uri("http://nobody.test/"))).StatusCode);
    }

    [Fact]
    public async Task ChunkedResponse_ReachesTheClientInOneSegment_AStreamedOneAsItComes()
    {
        var backend = await BackendAsync("chunks");
        await ServiceAsync("chunks", backend);
        await CreateIngressAsync("chunks", null, Rule("chunks.test", Path("/", "Prefix", "chunks")));
        await EventuallyAsync("http://chunks.test/warm", body => body.StartsWith("chunks", StringComparison.Ordinal));

        // The backend sends its whole chunked answer at once; the proxy passes it on in one send, closing chunk
        // included (the count of data segments the client's socket received, from the kernel).
        using (var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true })
        {
            await socket.ConnectAsync(harness.HttpEndpoint);
            await socket.SendAsync("GET /whole HTTP/1.1\r\nHost: chunks.test\r\n\r\n"u8.ToArray());
            var response = new System.Text.StringBuilder();
            var buffer = new byte[8192];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!response.ToString().EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await socket.ReceiveAsync(buffer, timeout.Token);
                Assert.True(read > 0, response.ToString());
                response.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
            }

            Assert.Contains("Transfer-Encoding: chunked", response.ToString(), StringComparison.OrdinalIgnoreCase);
            Assert.Contains("chunks /whole host=chunks.test", response.ToString(), StringComparison.Ordinal);
            Assert.Equal(1u, DataSegmentsReceived(socket));
        }

        // A streamed answer is not held back: its first line arrives while the backend still holds the second.
        using var streamed = await Web.GetAsync(new Uri("http://chunks.test/stream"), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await streamed.Content.ReadAsStreamAsync());
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal("first", await reader.ReadLineAsync(timeout.Token));
        }

        backend.ReleaseStream();
        Assert.Equal("second", await reader.ReadLineAsync());
        Assert.Null(await reader.ReadLineAsync());
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
        using var certificate = TestIngressController.SelfSigned("secure.test");
        await harness.TlsSecretAsync("secure-tls", certificate);

        var ingress = Ingress("tls", null, Rule("secure.test", Path("/", "Prefix", "secure")));
        ingress.Spec!.Tls = [new IngressTLS { Hosts = ["secure.test"], SecretName = "secure-tls" }];
        await Client.Resource<IngressObject>().CreateAsync(ingress);

        Assert.StartsWith("secure / host=secure.test proto=https", await EventuallyAsync("https://secure.test/", body => body.StartsWith("secure", StringComparison.Ordinal) && Presented?.Thumbprint == certificate.Thumbprint));
        Assert.Equal(certificate.Thumbprint, Presented!.Thumbprint);

        // Another name gets the controller's own certificate, not the Secret's.
        Assert.Equal(HttpStatusCode.NotFound, (await Web.GetAsync(new Uri("https://other.test/"))).StatusCode);
        Assert.NotEqual(certificate.Thumbprint, Presented!.Thumbprint);
    }

    [Fact]
    public async Task DefaultBackend_ServesWhatNoRuleMatches()
    {
        await ServiceAsync("named", await BackendAsync("named"));
        await ServiceAsync("fallback", await BackendAsync("fallback"));
        var ingress = Ingress("fallback", null, Rule("named.test", Path("/", "Prefix", "named")));
        ingress.Spec!.DefaultBackend = Backend("fallback");
        await Client.Resource<IngressObject>().CreateAsync(ingress);

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

        await Client.Resource<EndpointSlice>().DeleteAsync(Ns, "pool-one");
        await Client.Resource<EndpointSlice>().DeleteAsync(Ns, "pool-two");
        await EventuallyStatusAsync("http://pool.test/", HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task Status_FilledWithTheNodeAddress_OnlyForServedClasses()
    {
        await ServiceAsync("status", await BackendAsync("status"));
        await CreateIngressAsync("served", null, Rule("status.test", Path("/", "Prefix", "status")));
        await CreateIngressAsync("foreign", "someone-else", Rule("foreign.test", Path("/", "Prefix", "status")));

        var ingresses = Client.Resource<IngressObject>();
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
        Assert.Equal(HttpStatusCode.NotFound, (await Web.GetAsync(new Uri("http://foreign.test/"))).StatusCode);
    }

    [Fact]
    public async Task InvalidIngress_RefusedWith422()
    {
        var bad = Ingress("bad", null, Rule("10.0.0.1", Path("relative", "Prefix", "x")));
        bad.Spec!.Rules![0].Http!.Paths![0].PathType = null;
        var error = await Assert.ThrowsAsync<StatusException>(() => Client.Resource<IngressObject>().CreateAsync(bad));
        Assert.Equal(422, error.Code);
        Assert.Contains("spec.rules[0].host", error.Message, StringComparison.Ordinal);
        Assert.Contains("spec.rules[0].http.paths[0].pathType", error.Message, StringComparison.Ordinal);

        var neither = new IngressObject { Metadata = new ObjectMeta { Name = "empty", Namespace = Ns }, Spec = new IngressSpec() };
        error = await Assert.ThrowsAsync<StatusException>(() => Client.Resource<IngressObject>().CreateAsync(neither));
        Assert.Equal(422, error.Code);
        Assert.Contains("either `defaultBackend` or `rules` must be specified", error.Message, StringComparison.Ordinal);

        var badClass = new IngressClass { Metadata = new ObjectMeta { Name = "bad-" + id }, Spec = new IngressClassSpec { Controller = "no-domain" } };
        error = await Assert.ThrowsAsync<StatusException>(() => Client.Resource<IngressClass>().CreateAsync(badClass));
        Assert.Equal(422, error.Code);
    }

    /// <summary>tcpi_data_segs_in of Linux's struct tcp_info: the segments carrying data a TCP socket has received.</summary>
    private static uint DataSegmentsReceived(System.Net.Sockets.Socket socket)
    {
        const int IpProtoTcp = 6, TcpInfo = 11, DataSegmentsInOffset = 152;
        var info = new byte[256];
        var length = socket.GetRawSocketOption(IpProtoTcp, TcpInfo, info);
        Assert.True(length >= DataSegmentsInOffset + 4, $"tcp_info of {length} bytes");
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(DataSegmentsInOffset));
    }

    private Task<TestBackend> BackendAsync(string name) => harness.BackendAsync(name);

    private Task ServiceAsync(string name, TestBackend backend) => TestServiceEndpoints.CreateAsync(Client, Ns, name, backend);

    private Task SliceAsync(string service, string name, TestBackend backend, bool ready) => TestServiceEndpoints.SliceAsync(Client, Ns, service, name, backend, ready);

    private Task<IngressObject> CreateIngressAsync(string name, string? className, params IngressRule[] rules) =>
        Client.Resource<IngressObject>().CreateAsync(Ingress(name, className, rules));

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

    private Task<string> GetAsync(string url) => harness.GetAsync(url);

    private Task<string> EventuallyAsync(string url, Func<string, bool> accept, Func<Task<bool>>? also = null) => harness.EventuallyAsync(url, accept, also);

    private Task EventuallyStatusAsync(string url, HttpStatusCode expected) => harness.EventuallyStatusAsync(url, expected);
}
