using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.Client;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Kubelet.Images;
using Kubesharp.Kubelet.Runtime;
using Kubesharp.Storage.Sqlite;
using Kubesharp.Kubelet.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// An in-process API server on loopback plus a real node agent with its own containerd, pod network
/// (unique bridge and subnet) and the busybox test image imported. Everything is removed at the end.
/// </summary>
public sealed class NodeFixture : IAsyncLifetime
{
    public const string BusyboxImage = "docker.io/kubesharp/busybox:test";

    private SqliteStore? store;
    private ILoggerFactory? loggerFactory;
    private bool agentStopped;

    public string? SkipReason { get; } = RuntimeFactAttribute.SkipReason();

    public string Root { get; private set; } = "";

    public ApiServerHost Server { get; private set; } = null!;

    public KubernetesClient Client { get; private set; } = null!;

    public KubeletService Agent { get; private set; } = null!;

    public KubeletOptions Options { get; private set; } = null!;

    public string NodeName => Options.ResolvedNodeName;

    public async Task InitializeAsync()
    {
        if (SkipReason is not null)
        {
            return;
        }

        var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        Root = Directory.CreateTempSubdirectory("ksn-").FullName;
        store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(Root, "server", "db", "state.db") }, CancellationToken.None);
        Server = await ApiServerHost.StartAsync(
            new ApiServerOptions { DataDir = Path.Combine(Root, "server"), HttpsPort = 0 },
            store,
            BuiltinResources.Complete(ApiCatalog.Resources),
            null,
            LoggerFactory.Create(builder => builder.AddProvider(new FileLoggerProvider(Path.Combine(Path.GetTempPath(), "kubesharp-apiserver-e2e.log")))),
            TimeProvider.System,
            CancellationToken.None);
        await Server.Ready;
        Client = new KubernetesClient(new KubernetesClientOptions
        {
            Server = Server.Url,
            CertificateAuthorityPem = Server.Certificates.CaPem,
            ClientCertificatePem = Server.Certificates.AdminCertificatePem,
            ClientKeyPem = Server.Certificates.AdminKeyPem,
        });
        // What the controller manager (not run here) keeps in a namespace for pods' API access volumes.
        await Client.Resource<ServiceAccount>().CreateAsync(new ServiceAccount { ApiVersion = "v1", Kind = "ServiceAccount", Metadata = new ObjectMeta { Name = "default", Namespace = "default" } });
        await Client.Resource<ConfigMap>().CreateAsync(new ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = new ObjectMeta { Name = "kube-root-ca.crt", Namespace = "default" },
            Data = new() { ["ca.crt"] = Server.Certificates.CaPem },
        });
        Options = new KubeletOptions
        {
            NodeName = "node-" + id,
            DataDir = Path.Combine(Root, "a"),
            PodCidr = $"10.{200 + Random.Shared.Next(50)}.{Random.Shared.Next(256)}.0/24",
            BridgeName = "ksn" + id,
            NetworkName = "ksn-test-" + id,
            NodeIp = "127.0.0.1",
            KubeletPort = 0,
            InitialBackOff = TimeSpan.FromSeconds(1),
            MaxBackOff = TimeSpan.FromSeconds(4),
        };
        await StartAgentAsync();

        var busybox = await OciImageBuilder.BuildBusyboxAsync(BusyboxImage, [], ["sh"]);
        var archive = Path.Combine(Root, "busybox.oci.tar");
        await OciImageBuilder.WriteOciArchiveAsync(archive, [busybox]);
        await new ContainerdImageImporter(Agent.Runtime!.Supervisor!.Layout.Socket).ImportAndWaitAsync(archive, Agent.Runtime.Images, TimeProvider.System);
    }

    /// <summary>Starts a (new) agent on the same data directory, as after a restart of the process.</summary>
    /// <param name="whenUp">Called once the agent is up (<see cref="KubeletService.Up"/>), before it is wholly ready.</param>
    public async Task StartAgentAsync(Func<Task>? whenUp = null)
    {
        loggerFactory ??= LoggerFactory.Create(builder => builder.AddProvider(new FileLoggerProvider(Path.Combine(Path.GetTempPath(), "kubesharp-kubelet-e2e.log"))));
        // The endpoint accepts client certificates of the cluster CA, as the API server's proxy presents.
        Agent = new KubeletService(Options, Client, loggerFactory) { ClientCaPem = Server.Certificates.CaPem };
        agentStopped = false;
        await Agent.StartAsync(CancellationToken.None);
        await Agent.Up.WaitAsync(TimeSpan.FromMinutes(2));
        if (whenUp is not null)
        {
            await whenUp();
        }

        await Agent.Ready.WaitAsync(TimeSpan.FromMinutes(2));
    }

    /// <summary>Stops the agent and its containerd; containers keep running under their shims.</summary>
    public async Task StopAgentAsync()
    {
        await Agent.StopAsync(CancellationToken.None);
        agentStopped = true;
    }

    public async Task DisposeAsync()
    {
        if (SkipReason is not null)
        {
            return;
        }

        try
        {
            // A stopped agent's containerd is gone too: its leftovers go with the host cleanup below.
            if (Agent?.Runtime is { } runtime && !agentStopped)
            {
                await PodSandboxCleanup.RemoveAllAsync(runtime.Runtime);
            }
        }
        finally
        {
            if (Agent is not null)
            {
                if (!agentStopped)
                {
                    await StopAgentAsync();
                }

                Agent.Dispose();
            }

            Client?.Dispose();
            loggerFactory?.Dispose();
            if (Server is not null)
            {
                await Server.DisposeAsync();
            }

            if (store is not null)
            {
                await store.DisposeAsync();
            }

            await HostCleanup.RemoveNodeAsync(Root, Options.NetworkName, Options.BridgeName);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class NodeCollection : ICollectionFixture<NodeFixture>
{
    public const string Name = "node";
}
