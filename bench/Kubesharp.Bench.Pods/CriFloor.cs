using System.Diagnostics;
using Kubesharp.Cri;
using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Network;
using Kubesharp.Kubelet.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Bench.Pods;

/// <summary>
/// The floor for pod start-up: a containerd of its own (the same configuration a Kubesharp node writes, its own
/// bridge and subnet) driven directly with RunPodSandbox + CreateContainer + StartContainer, no API server.
/// </summary>
internal sealed class CriFloor : IAsyncDisposable
{
    private const string NetworkName = "ksb-floor";
    private const string BridgeName = "ksbfloor0";
    private readonly ContainerRuntime runtime;
    private readonly string dataDir;
    private int sequence;

    private CriFloor(ContainerRuntime runtime, string dataDir, double startupSeconds)
    {
        this.runtime = runtime;
        this.dataDir = dataDir;
        StartupSeconds = startupSeconds;
    }

    /// <summary>Seconds from starting containerd until its CRI service answered: the floor under a node's start.</summary>
    public double StartupSeconds { get; }

    public int? ContainerdProcessId => runtime.Supervisor?.ProcessId;

    public static async Task<CriFloor> StartAsync(string dataDir, string archive, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var runtime = await ContainerRuntime.StartAsync(
            new ContainerRuntimeOptions { Containerd = new ContainerdOptions { DataDir = dataDir } }, NullLoggerFactory.Instance, TimeProvider.System, cancellationToken);
        // Until it could start a pod: its CRI answers and it holds the sandbox image.
        await runtime.Supervisor!.SandboxImageReady.WaitAsync(cancellationToken);
        var floor = new CriFloor(runtime, dataDir, Stopwatch.GetElapsedTime(started).TotalSeconds);
        var layout = runtime.Supervisor!.Layout;
        CniConfigWriter.Write(layout.CniConfDir, new CniNetworkOptions
        {
            PodCidr = $"10.{200 + Random.Shared.Next(50)}.{Random.Shared.Next(256)}.0/24",
            BridgeName = BridgeName,
            NetworkName = NetworkName,
            IpamDataDir = layout.CniIpamDir,
        });
        await new ContainerdImageImporter(layout.Socket).ImportAndWaitAsync(archive, runtime.Images, TimeProvider.System, cancellationToken);
        // The CRI plugin reloads the network configuration when the directory changes; wait until it reports ready.
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var status = await runtime.Runtime.StatusAsync(cancellationToken: cancellationToken);
            if (status.Status.Conditions.All(c => c.Status))
            {
                break;
            }

            await Task.Delay(100, cancellationToken);
        }

        return floor;
    }

    /// <summary>Starts <paramref name="count"/> pods at once; returns each one's milliseconds from the first call to StartContainer's answer.</summary>
    public async Task<IReadOnlyList<double>> StartPodsAsync(int count, string image, CancellationToken cancellationToken)
    {
        var latencies = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => Task.Run(async () =>
        {
            var n = Interlocked.Increment(ref sequence);
            var name = $"floor-{n}";
            var started = Stopwatch.GetTimestamp();
            var sandboxConfig = new PodSandboxConfig
            {
                Metadata = new PodSandboxMetadata { Name = name, Namespace = "default", Uid = Guid.NewGuid().ToString(), Attempt = 0 },
                Hostname = name,
                LogDirectory = Path.Combine(dataDir, "pod-logs", name),
                Linux = new LinuxPodSandboxConfig
                {
                    SecurityContext = new LinuxSandboxSecurityContext
                    {
                        NamespaceOptions = new NamespaceOption { Network = NamespaceMode.Pod, Pid = NamespaceMode.Container, Ipc = NamespaceMode.Pod },
                    },
                },
            };
            var sandbox = await runtime.Runtime.RunPodSandboxAsync(sandboxConfig, cancellationToken: cancellationToken);
            var container = await runtime.Runtime.CreateContainerAsync(
                sandbox,
                new ContainerConfig
                {
                    Metadata = new ContainerMetadata { Name = "c", Attempt = 0 },
                    Image = new ImageSpec { Image = image },
                    LogPath = "c/0.log",
                },
                sandboxConfig,
                cancellationToken);
            await runtime.Runtime.StartContainerAsync(container, cancellationToken);
            return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }, cancellationToken)));
        return latencies;
    }

    /// <summary>Stops and removes every sandbox (and so its containers).</summary>
    public async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        var sandboxes = await runtime.Runtime.ListPodSandboxAsync(cancellationToken: cancellationToken);
        await Task.WhenAll(sandboxes.Select(async sandbox =>
        {
            await runtime.Runtime.StopPodSandboxAsync(sandbox.Id, cancellationToken);
            await runtime.Runtime.RemovePodSandboxAsync(sandbox.Id, cancellationToken);
        }));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RemoveAllAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"floor cleanup: {e.Message}");
        }

        await runtime.DisposeAsync();
        await HostCommand.RemoveNodeLeftoversAsync(dataDir, NetworkName, BridgeName);
    }
}
