using System.Diagnostics;
using System.Net;
using Kubesharp.Api;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.ApiServer.Registry.Strategies;
using Kubesharp.Client;
using Kubesharp.ControllerManager;
using Kubesharp.ControllerManager.Endpoints;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Dns;
using Kubesharp.Kubelet.Images;
using Kubesharp.Kubelet.Runtime;
using Kubesharp.Kubelet.Tests.Support;
using Kubesharp.NodeAgents;
using Kubesharp.Proxy.Iptables;
using Kubesharp.Scheduler;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// A one-node cluster as <c>kubesharp server</c> composes it: API server, controllers, scheduler, the
/// kube-dns Service and a node agent (kubelet on its own containerd, service proxy, cluster DNS). Every host
/// resource is unique to the run (bridge, pod and service CIDRs, chain prefix, DNS link) so it can share the
/// machine with other clusters. The service CIDR is routed into a dummy link that drops whatever the proxy
/// does not translate, so no test traffic leaves the machine. Everything is removed at the end.
/// </summary>
public sealed class ServiceNetworkFixture : IAsyncLifetime, IDisposable
{
    public const string BusyboxImage = "docker.io/kubesharp/busybox:svc-test";

    private readonly CancellationTokenSource stopping = new();
    private SqliteStore? store;
    private ILoggerFactory? loggerFactory;
    private Task controllers = Task.CompletedTask;
    private Task apiEndpoints = Task.CompletedTask;
    private SchedulerService? scheduler;
    private string id = "";
    private KubernetesClient? controlPlaneClient;
    private KubernetesClient? agentClient;

    public string? SkipReason { get; } = RuntimeFactAttribute.SkipReason();

    public string Root { get; private set; } = "";

    public ApiServerHost Server { get; private set; } = null!;

    public KubernetesClient Client { get; private set; } = null!;

    internal NodeAgent Agent { get; private set; } = null!;

    public ServiceIpRange ServiceCidr { get; private set; } = null!;

    /// <summary>The node's InternalIP: the pod bridge's gateway address.</summary>
    public string NodeIp { get; private set; } = "";

    public string ChainPrefix { get; private set; } = "";

    /// <summary>Not cluster.local: the kubelet's search paths and cluster DNS both follow the configured domain.</summary>
    public string ClusterDomain => "ksv.test";

    public string DnsLink => "ksd" + id;

    private string BlackholeLink => "ksb" + id;

    private string BridgeName => "ksv" + id;

    private string NetworkName => "ksv-test-" + id;

    public async Task InitializeAsync()
    {
        if (SkipReason is not null)
        {
            return;
        }

        id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        ChainPrefix = "KST" + id.ToUpperInvariant();
        Root = Directory.CreateTempSubdirectory("ksv-").FullName;
        loggerFactory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(LogLevel.Debug)
            .AddProvider(new FileLoggerProvider(Path.Combine(Path.GetTempPath(), "kubesharp-services-e2e.log"))));

        // Pod CIDRs 10.250-254.x (NodeFixture takes 10.200-249.x), service CIDRs 10.150-199.0.0/16.
        var podCidr = $"10.{250 + Random.Shared.Next(5)}.{Random.Shared.Next(256)}.0/24";
        NodeIp = podCidr.Replace(".0/24", ".1", StringComparison.Ordinal);
        ServiceCidr = ServiceIpRange.Parse($"10.{150 + Random.Shared.Next(50)}.0.0/16");
        if ((await RunAsync("ip", "link", "add", BlackholeLink, "type", "dummy")).ExitCode != 0)
        {
            // No dummy driver: a bridge without ports drops what it is given just the same.
            await RunAsync("ip", "link", "add", BlackholeLink, "type", "bridge");
        }

        await RunAsync("ip", "link", "set", BlackholeLink, "up");
        await RunAsync("ip", "route", "add", ServiceCidr.ToString(), "dev", BlackholeLink);

        store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(Root, "server", "db", "state.db") }, CancellationToken.None);
        Server = await ApiServerHost.StartAsync(
            // Listening on every address, as kubesharp server --bind-address 0.0.0.0 does: pods reach the API
            // at the node address (the bridge gateway, which exists once the first pod is networked).
            new ApiServerOptions { DataDir = Path.Combine(Root, "server"), HttpsPort = 0, ServiceCidr = ServiceCidr, BindAddress = IPAddress.Any, AdvertiseAddress = IPAddress.Parse(NodeIp) },
            store,
            BuiltinResources.Complete(ApiCatalog.Resources),
            null,
            NullLoggerFactory.Instance,
            TimeProvider.System,
            CancellationToken.None);
        await Server.Ready;
        // The test, the control plane and the node each have their own connection, as in kubesharp server.
        Client = NewClient();
        controlPlaneClient = NewClient();
        agentClient = NewClient();

        controllers = ControllerManager.ControllerManager.RunAsync(controlPlaneClient, new ControllerManagerOptions { LeaderElect = false, RootCaPem = Server.Certificates.CaPem }, TimeProvider.System, loggerFactory, stopping.Token);
        scheduler = new SchedulerService(controlPlaneClient, new SchedulerOptions(), timeProvider: TimeProvider.System, logger: loggerFactory.CreateLogger<SchedulerService>());
        await scheduler.StartAsync(CancellationToken.None);
        var dnsIp = ServiceCidr.DnsServiceIp;
        await ClusterDnsService.EnsureAsync(controlPlaneClient, dnsIp.ToString(), CancellationToken.None);
        apiEndpoints = KubernetesServiceEndpoints.KeepAsync(controlPlaneClient, IPAddress.Parse(NodeIp), Server.Url.Port, TimeSpan.FromSeconds(10), TimeProvider.System, _ => { }, stopping.Token);

        var kubelet = new KubeletOptions
        {
            NodeName = "node-" + id,
            DataDir = Path.Combine(Root, "a"),
            PodCidr = podCidr,
            BridgeName = BridgeName,
            NetworkName = NetworkName,
            NodeIp = NodeIp,
            KubeletPort = 0,
            InitialBackOff = TimeSpan.FromSeconds(1),
            MaxBackOff = TimeSpan.FromSeconds(4),
            ClusterDns = [dnsIp.ToString()],
            ClusterDomain = ClusterDomain,
        };
        var options = NodeAgentOptions.Create(kubelet, podCidr, DnsLink);
        options.Proxy.ChainPrefix = ChainPrefix;
        // Names outside the cluster go nowhere: the forwarder's only upstream is a closed loopback port.
        options = options with
        {
            Dns = new ClusterDnsOptions
            {
                ListenEndpoint = options.Dns!.ListenEndpoint,
                InterfaceName = DnsLink,
                ClusterDomain = options.Dns.ClusterDomain,
                Upstreams = [new IPEndPoint(IPAddress.Loopback, 9)],
            },
        };
        Agent = await NodeAgent.StartAsync(options, agentClient, loggerFactory, CancellationToken.None);
        await Agent.Kubelet.Ready.WaitAsync(TimeSpan.FromMinutes(2));

        var busybox = await OciImageBuilder.BuildBusyboxAsync(BusyboxImage, [], ["sh"]);
        var archive = Path.Combine(Root, "busybox.oci.tar");
        await OciImageBuilder.WriteOciArchiveAsync(archive, [busybox]);
        await new ContainerdImageImporter(Agent.Kubelet.Runtime!.Supervisor!.Layout.Socket).ImportAndWaitAsync(archive, Agent.Kubelet.Runtime.Images, TimeProvider.System);
    }

    /// <summary>The nat rules currently in force for this cluster.</summary>
    public async Task<string> NatRulesAsync()
    {
        var (_, output) = await RunAsync("iptables-save", "-t", "nat");
        return string.Join('\n', output.Split('\n').Where(l => l.Contains(ChainPrefix + "-", StringComparison.Ordinal)));
    }

    public async Task DisposeAsync()
    {
        if (SkipReason is not null)
        {
            return;
        }

        try
        {
            if (Agent?.Kubelet.Runtime is { } runtime)
            {
                await PodSandboxCleanup.RemoveAllAsync(runtime.Runtime);
            }
        }
        finally
        {
            if (Agent is not null)
            {
                await Agent.DisposeAsync();
            }

            await stopping.CancelAsync();
            if (scheduler is not null)
            {
                await scheduler.StopAsync(CancellationToken.None);
            }

            await IgnoreCancellation(controllers);
            await IgnoreCancellation(apiEndpoints);
            Client?.Dispose();
            controlPlaneClient?.Dispose();
            agentClient?.Dispose();
            if (Server is not null)
            {
                await Server.DisposeAsync();
            }

            if (store is not null)
            {
                await store.DisposeAsync();
            }

            loggerFactory?.Dispose();
            await HostCleanup.RemoveNodeAsync(Root, NetworkName, BridgeName);
            // Normally already gone with the agent; a failed start may have left them.
            await new IptablesRunner(new HostCommand([]), new IptablesChains(ChainPrefix)).CleanupAsync(CancellationToken.None);
            await HostCleanup.DeleteLinkAsync(DnsLink);
            await HostCleanup.DeleteLinkAsync(BlackholeLink);
        }
    }

    public void Dispose()
    {
        scheduler?.Dispose();
        stopping.Dispose();
    }

    private KubernetesClient NewClient() => new(new KubernetesClientOptions
    {
        Server = Server.Url,
        CertificateAuthorityPem = Server.Certificates.CaPem,
        ClientCertificatePem = Server.Certificates.AdminCertificatePem,
        ClientKeyPem = Server.Certificates.AdminKeyPem,
    });

    private static async Task IgnoreCancellation(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(arguments[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}

[CollectionDefinition(Name)]
public sealed class ServiceNetworkCollection : ICollectionFixture<ServiceNetworkFixture>
{
    public const string Name = "service-network";
}
