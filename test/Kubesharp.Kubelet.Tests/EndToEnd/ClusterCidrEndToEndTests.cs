using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.Client;
using Kubesharp.ControllerManager;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Kubelet.Images;
using Kubesharp.Kubelet.Runtime;
using Kubesharp.Kubelet.Tests.Support;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// A node agent without a pod CIDR of its own on a cluster whose controller manager slices 10.99.0.0/16: the node
/// gets its range from the node IPAM controller and its containerd pods get addresses from it.
/// </summary>
public sealed class ClusterCidrEndToEndTests
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(2);

    [RuntimeFact]
    public async Task Agent_ClusterCidr10_99_PodGetsAddressInItsNodesAssignedRange()
    {
        var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        var root = Directory.CreateTempSubdirectory("ksc-").FullName;
        var bridge = "ksc" + id;
        var network = "ksc-test-" + id;
        using var stopping = new CancellationTokenSource();
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(new FileLoggerProvider(Path.Combine(Path.GetTempPath(), "kubesharp-cluster-cidr-e2e.log"))));
        var store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(root, "server", "db", "state.db") }, CancellationToken.None);
        ApiServerHost? server = null;
        KubernetesClient? client = null;
        KubeletService? agent = null;
        Task controllers = Task.CompletedTask;
        try
        {
            server = await ApiServerHost.StartAsync(
                new ApiServerOptions { DataDir = Path.Combine(root, "server"), HttpsPort = 0 },
                store,
                BuiltinResources.Complete(ApiCatalog.Resources),
                null,
                NullLoggerFactory.Instance,
                TimeProvider.System,
                CancellationToken.None);
            await server.Ready;
            client = KubernetesClient.FromKubeconfig(server.KubeconfigPath);
            controllers = ControllerManager.ControllerManager.RunAsync(
                client,
                new ControllerManagerOptions { LeaderElect = false, RootCaPem = server.Certificates.CaPem, ClusterCidr = "10.99.0.0/16" },
                TimeProvider.System,
                loggerFactory,
                stopping.Token);
            var options = new KubeletOptions
            {
                NodeName = "node-" + id,
                DataDir = Path.Combine(root, "a"),
                BridgeName = bridge,
                NetworkName = network,
                NodeIp = "127.0.0.1",
                KubeletPort = 0,
            };
            agent = new KubeletService(options, client, loggerFactory) { ClientCaPem = server.Certificates.CaPem };
            await agent.StartAsync(CancellationToken.None);
            await agent.Ready.WaitAsync(WaitLimit);
            var busybox = await OciImageBuilder.BuildBusyboxAsync(NodeFixture.BusyboxImage, [], ["sh"]);
            var archive = Path.Combine(root, "busybox.oci.tar");
            await OciImageBuilder.WriteOciArchiveAsync(archive, [busybox]);
            await new ContainerdImageImporter(agent.Runtime!.Supervisor!.Layout.Socket).ImportAndWaitAsync(archive, agent.Runtime.Images, TimeProvider.System);

            using var timeout = new CancellationTokenSource(WaitLimit);
            while ((await client.Resource<ServiceAccount>().ListAsync("default", cancellationToken: timeout.Token)).Items.Count == 0)
            {
                await Task.Delay(100, timeout.Token);
            }

            var pods = client.Resource<Pod>();
            await pods.CreateAsync(new Pod
            {
                ApiVersion = "v1",
                Kind = "Pod",
                Metadata = new ObjectMeta { Name = "addressed", Namespace = "default" },
                Spec = new PodSpec
                {
                    NodeName = options.ResolvedNodeName,
                    TerminationGracePeriodSeconds = 0,
                    Containers = [new Container { Name = "c", Image = NodeFixture.BusyboxImage, ImagePullPolicy = "Never", Command = ["sleep", "600"] }],
                },
            }, cancellationToken: timeout.Token);
            Pod running;
            while ((running = await pods.GetAsync("default", "addressed", timeout.Token)).Status?.PodIP is null)
            {
                await Task.Delay(200, timeout.Token);
            }

            var node = await client.Resource<Node>().GetAsync(null, options.ResolvedNodeName, timeout.Token);
            Assert.Matches(@"^10\.99\.\d+\.0/24$", node.Spec!.PodCIDR);
            Assert.Equal([node.Spec.PodCIDR!], node.Spec.PodCIDRs!);
            var prefix = node.Spec.PodCIDR![..node.Spec.PodCIDR!.LastIndexOf('.')] + ".";
            Assert.StartsWith(prefix, running.Status!.PodIP, StringComparison.Ordinal);
            Assert.Equal("Running", running.Status.Phase);
        }
        finally
        {
            if (agent?.Runtime is { } runtime)
            {
                await PodSandboxCleanup.RemoveAllAsync(runtime.Runtime);
            }

            if (agent is not null)
            {
                await agent.StopAsync(CancellationToken.None);
                agent.Dispose();
            }

            await stopping.CancelAsync();
            await controllers;
            client?.Dispose();
            if (server is not null)
            {
                await server.DisposeAsync();
            }

            await store.DisposeAsync();
            await HostCleanup.RemoveNodeAsync(root, network, bridge);
        }
    }
}
