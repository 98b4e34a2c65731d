using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Images;
using Kubesharp.Kubelet.Network;
using Kubesharp.Kubelet.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Cri.Tests.Support;

/// <summary>
/// One real containerd per test run, started by the agent's supervisor in a temp dir, with a pod network
/// of its own (unique bridge and subnet), a loopback registry, and the busybox test image imported.
/// </summary>
public sealed class ContainerdFixture : IAsyncLifetime
{
    public const string BusyboxImage = "docker.io/kubesharp/busybox:test";

    public string? SkipReason { get; } = RuntimeFactAttribute.SkipReason();

    public string Root { get; private set; } = "";

    public ContainerdSupervisor Supervisor { get; private set; } = null!;

    public DockerRegistry? Registry { get; private set; }

    public OciImage Busybox { get; private set; } = null!;

    public string PodCidr { get; private set; } = "";

    public string BridgeName { get; private set; } = "";

    public string NetworkName { get; private set; } = "";

    public IRuntimeService Runtime => Supervisor.Runtime;

    public IImageService Images => Supervisor.Images;

    public async Task InitializeAsync()
    {
        if (SkipReason is not null)
        {
            return;
        }

        var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        Root = Directory.CreateTempSubdirectory("ks-").FullName;
        PodCidr = $"10.{200 + Random.Shared.Next(50)}.{Random.Shared.Next(256)}.0/24";
        BridgeName = "ks" + id;
        NetworkName = "ks-test-" + id;

        if (File.Exists(DockerRegistry.BinaryPath))
        {
            Registry = await DockerRegistry.StartAsync();
        }

        Supervisor = new ContainerdSupervisor(
            new ContainerdOptions
            {
                DataDir = Path.Combine(Root, "data"),
                InsecureRegistries = Registry is null ? [] : [Registry.Host],
            },
            NullLogger<ContainerdSupervisor>.Instance);
        await Supervisor.StartAsync(CancellationToken.None);
        await Supervisor.SandboxImageReady;
        CniConfigWriter.Write(Supervisor.Layout.CniConfDir, new CniNetworkOptions
        {
            PodCidr = PodCidr,
            BridgeName = BridgeName,
            NetworkName = NetworkName,
            IpamDataDir = Supervisor.Layout.CniIpamDir,
        });

        Busybox = await OciImageBuilder.BuildBusyboxAsync(BusyboxImage, [], ["sh"]);
        var archive = Path.Combine(Root, "busybox.oci.tar");
        await OciImageBuilder.WriteOciArchiveAsync(archive, [Busybox]);
        await new ContainerdImageImporter(Supervisor.Layout.Socket).ImportAndWaitAsync(archive, Images, TimeProvider.System);
    }

    public async Task DisposeAsync()
    {
        if (SkipReason is not null)
        {
            return;
        }

        try
        {
            foreach (var sandbox in await Runtime.ListPodSandboxAsync())
            {
                await Runtime.StopPodSandboxAsync(sandbox.Id);
                await Runtime.RemovePodSandboxAsync(sandbox.Id);
            }
        }
        finally
        {
            await Supervisor.DisposeAsync();
            if (Registry is not null)
            {
                await Registry.DisposeAsync();
            }

            await HostCleanup.RemoveNodeAsync(Root, NetworkName, BridgeName);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ContainerdCollection : ICollectionFixture<ContainerdFixture>
{
    public const string Name = "containerd";
}
