using System.Net;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.ControllerManager.Endpoints;
using Kubesharp.Dns;
using Kubesharp.Dns.Wire;
using Kubesharp.IntegrationTests.ApiServer;

namespace Kubesharp.IntegrationTests.Services;

/// <summary>
/// The endpoint controllers and cluster DNS against an in-process API server: pods with status written
/// through the API become EndpointSlices, Endpoints and DNS answers.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ServiceDiscoveryTests(TestServer server) : IAsyncLifetime
{
    private readonly string id = Guid.NewGuid().ToString("N")[..8];
    private readonly CancellationTokenSource stopping = new();
    private KubernetesClient client = null!;
    private SharedInformerFactory informers = null!;
    private EndpointSliceController slices = null!;
    private EndpointsController endpoints = null!;
    private ClusterDnsServer dns = null!;
    private Task running = Task.CompletedTask;

    private string Ns => "sd" + id;

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
        slices = new EndpointSliceController(client, informers);
        endpoints = new EndpointsController(client, informers);
        var options = new ClusterDnsOptions { ListenEndpoint = new IPEndPoint(IPAddress.Loopback, 0) };
        var zone = new ClusterDnsZone(options, informers.Informer<Service>().Indexer, informers.Informer<EndpointSlice>().Indexer, informers.Informer<Pod>().Indexer);
        dns = new ClusterDnsServer(zone, new DnsForwarder([], TimeSpan.FromMilliseconds(100)), options);
        dns.Start();
        running = Task.WhenAll(slices.RunAsync(2, stopping.Token), endpoints.RunAsync(2, stopping.Token));
    }

    public async Task DisposeAsync()
    {
        await stopping.CancelAsync();
        await running;
        await dns.DisposeAsync();
        await informers.DisposeAsync();
        slices.Dispose();
        endpoints.Dispose();
        client.Dispose();
        stopping.Dispose();
    }

    private async Task<Service> CreateServiceAsync(string name, string? clusterIp = null)
    {
        return await client.Resource<Service>().CreateAsync(new Service
        {
            Metadata = new ObjectMeta { Name = name, Namespace = Ns },
            Spec = new ServiceSpec
            {
                ClusterIP = clusterIp,
                Selector = new() { ["app"] = name },
                Ports = [new ServicePort { Name = "http", Port = 80, TargetPort = new IntOrString("http") }],
            },
        });
    }

    private async Task CreatePodAsync(string app, string name, string ip, bool ready)
    {
        var pods = client.Resource<Pod>();
        var created = await pods.CreateAsync(new Pod
        {
            Metadata = new ObjectMeta { Name = name, Namespace = Ns, Labels = new() { ["app"] = app } },
            Spec = new PodSpec
            {
                NodeName = "node-a",
                Containers = [new Container { Name = "c", Image = "busybox", Ports = [new ContainerPort { Name = "http", ContainerPortValue = 8080 }] }],
            },
        });
        created.Status = new PodStatus
        {
            Phase = "Running",
            PodIP = ip,
            PodIPs = [new PodIP { Ip = ip }],
            Conditions = [new PodCondition { Type = "Ready", Status = ready ? "True" : "False" }],
        };
        await pods.UpdateStatusAsync(created);
    }

    /// <summary>Waits, on cache events rather than a clock, until the predicate holds over the cached slices.</summary>
    private async Task<List<EndpointSlice>> WaitForSlicesAsync(string service, Func<List<EndpointSlice>, bool> predicate)
    {
        var changed = new SemaphoreSlim(0);
        informers.Informer<EndpointSlice>().AddEventHandler(onAdd: _ => changed.Release(), onUpdate: (_, _) => changed.Release(), onDelete: _ => changed.Release());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var current = informers.Lister<EndpointSlice>().List(Ns).Where(s => s.Metadata?.Labels?.GetValueOrDefault(EndpointSliceLabels.ServiceName) == service).ToList();
            if (predicate(current))
            {
                return current;
            }

            await changed.WaitAsync(timeout.Token);
        }
    }

    private async Task<DnsMessage> QueryAsync(string name, DnsType type)
    {
        using var udp = new System.Net.Sockets.UdpClient();
        udp.Connect(dns.UdpEndpoint!);
        await udp.SendAsync(DnsMessageWriter.Write(new DnsMessage { Id = 42, RecursionDesired = true, Questions = [new DnsQuestion(name, type)] }));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = await udp.ReceiveAsync(timeout.Token);
        return DnsMessageReader.Parse(received.Buffer);
    }

    [Fact]
    public async Task Pods_ReadyAndNotReady_SliceEndpointsAndDnsFollow()
    {
        var service = await CreateServiceAsync("web");
        await CreatePodAsync("web", "web-1", "10.42.0.11", ready: true);
        await CreatePodAsync("web", "web-2", "10.42.0.12", ready: false);

        var found = await WaitForSlicesAsync("web", s => s.Sum(x => x.Endpoints?.Count ?? 0) == 2);

        var slice = Assert.Single(found);
        Assert.Equal(EndpointSliceLabels.ControllerName, slice.Metadata!.Labels![EndpointSliceLabels.ManagedBy]);
        Assert.Equal(8080, Assert.Single(slice.Ports!).Port);
        var byIp = slice.Endpoints!.ToDictionary(e => e.Addresses![0]);
        Assert.True(byIp["10.42.0.11"].Conditions!.Ready);
        Assert.False(byIp["10.42.0.12"].Conditions!.Ready);
        Assert.Equal("web-1", byIp["10.42.0.11"].TargetRef!.Name);
        Assert.Equal("node-a", byIp["10.42.0.11"].NodeName);

        var answer = await QueryAsync($"web.{Ns}.svc.cluster.local", DnsType.A);
        Assert.Equal(IPAddress.Parse(service.Spec!.ClusterIP!), ((AddressData)Assert.Single(answer.Answers).Data).Address);

        await client.Resource<Pod>().DeleteAsync(Ns, "web-1", new DeleteOptions { GracePeriodSeconds = 0 });
        // Gone, or terminating until the kubelet confirms: either way no longer ready.
        var after = await WaitForSlicesAsync("web", s => !s.SelectMany(x => x.Endpoints ?? []).Any(e => e.Addresses![0] == "10.42.0.11" && e.Conditions?.Terminating != true));
        Assert.Contains(Assert.Single(after).Endpoints!, e => e.Addresses![0] == "10.42.0.12");

        var legacy = await client.Resource<Kubesharp.Api.Core.V1.Endpoints>().GetAsync(Ns, "web");
        Assert.NotNull(legacy.Subsets);
    }

    [Fact]
    public async Task HeadlessService_DnsAnswersReadyPodAddresses()
    {
        await CreateServiceAsync("db", clusterIp: "None");
        await CreatePodAsync("db", "db-1", "10.42.1.1", ready: true);
        await CreatePodAsync("db", "db-2", "10.42.1.2", ready: true);
        await WaitForSlicesAsync("db", s => s.Sum(x => x.Endpoints?.Count(e => e.Conditions?.Ready == true) ?? 0) == 2);

        var answer = await QueryAsync($"db.{Ns}.svc.cluster.local", DnsType.A);

        Assert.Equal(["10.42.1.1", "10.42.1.2"], answer.Answers.Select(a => ((AddressData)a.Data).Address.ToString()).Order(StringComparer.Ordinal));
    }
}
