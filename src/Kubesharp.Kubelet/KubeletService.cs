using Kubesharp.Api.Core.V1;
using Kubesharp.Client;
using Kubesharp.Client.Events;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.Kubelet.Csi;
using Kubesharp.Kubelet.Devices;
using Kubesharp.Kubelet.Network;
using Kubesharp.Kubelet.Network.Overlay;
using Kubesharp.Kubelet.Nodes;
using Kubesharp.Kubelet.Pods;
using Kubesharp.Kubelet.Probes;
using Kubesharp.Kubelet.Runtime;
using Kubesharp.Kubelet.Streaming;
using Kubesharp.Kubelet.Volumes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet;

/// <summary>
/// The node agent: starts (or connects to) the container runtime, writes the CNI network, registers the
/// Node and keeps its Lease, syncs the pods bound to the node, and serves logs over HTTPS. Stopping it
/// leaves containers running; the next start adopts them.
/// </summary>
public sealed partial class KubeletService : BackgroundService
{
    private readonly KubeletOptions options;
    private readonly KubernetesClient client;
    private readonly ILoggerFactory loggerFactory;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource up = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="client">The agent's API connection (its own credentials); the caller owns it.</param>
    public KubeletService(KubeletOptions options, KubernetesClient client, ILoggerFactory loggerFactory, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        this.options = options;
        this.client = client;
        this.loggerFactory = loggerFactory;
        time = timeProvider ?? TimeProvider.System;
        logger = loggerFactory.CreateLogger<KubeletService>();
    }

    public string NodeName => options.ResolvedNodeName;

    /// <summary>Completes once the node is registered and pods are being synced; fails if startup failed.</summary>
    public Task Ready => ready.Task;

    /// <summary>
    /// Completes once the node has first reported Ready with its pod workers running (or has stopped waiting for that,
    /// when it cannot turn Ready soon), before <see cref="Ready"/>: the device plugin sockets may still be starting.
    /// What a server's readiness and the node's proxy and DNS wait for. Fails if startup failed.
    /// </summary>
    public Task Up => up.Task;

    /// <summary>The runtime connection, once started.</summary>
    public ContainerRuntime? Runtime { get; private set; }

    /// <summary>Imports the archives of <see cref="KubeletOptions.ImagesDir"/>; null when containerd is not the agent's own.</summary>
    public ImageArchiveLoader? ImageArchives { get; private set; }

    /// <summary>The port the HTTPS endpoint listens on, once started.</summary>
    public int KubeletPort { get; private set; }

    /// <summary>PEM of the CA whose client certificates the endpoint accepts (the API server's proxy); null accepts the token only.</summary>
    public string? ClientCaPem { get; init; }

    /// <summary>A container runtime the caller already started (the server starts containerd while its API server
    /// starts); the kubelet owns it from then on. When null the kubelet starts the one its options name.</summary>
    public Task<ContainerRuntime>? StartingRuntime { get; init; }

    /// <summary>A bearer token the endpoint accepts.</summary>
    public string? EndpointToken { get; init; }

    /// <summary>
    /// The local-path provisioner's client: it watches every claim and writes PersistentVolumes, which a node's own
    /// identity may not (k3s runs it under its own account too). Null uses the kubelet's.
    /// </summary>
    public KubernetesClient? ProvisionerClient { get; init; }

    /// <summary>
    /// The CSI attacher's client: it writes VolumeAttachments' finalizers and status, which a node's own identity may
    /// not (upstream's external-attacher runs under its own account). Null uses the kubelet's.
    /// </summary>
    public KubernetesClient? AttacherClient { get; init; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ContainerRuntime? runtime = null;
        KubeletServer? server = null;
        ProbeManager? probes = null;
        ActionRunner? runner = null;
        DeviceRegistry? devices = null;
        DevicePluginServer? devicePlugins = null;
        PodResourcesServer? podResources = null;
        CsiDriverRegistry? csiDrivers = null;
        Task<(DevicePluginServer?, PodResourcesServer?)>? deviceServers = null;
        Task<KubeletServer>? serverStart = null;
        var podNetwork = Task.CompletedTask;
        var assignedPodCidr = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var overlay = options.Overlay is { Backend: not OverlayBackend.None } overlayOptions
            ? new OverlayController(client, NodeName, new OverlayNetwork(overlayOptions), time, loggerFactory.CreateLogger<OverlayController>())
            : null;
        var startedAt = time.GetTimestamp();
        void Phase(string phase)
        {
            var milliseconds = time.GetElapsedTime(startedAt).TotalMilliseconds;
            LogPhase(logger, phase, milliseconds);
        }

        try
        {
            runtime = StartingRuntime is { } starting
                ? await starting.WaitAsync(stoppingToken)
                : await ContainerRuntime.StartAsync(
                    options.ContainerRuntime ?? new ContainerRuntimeOptions { Containerd = new ContainerdOptions { DataDir = options.DataDir } },
                    loggerFactory, time, stoppingToken);
            Runtime = runtime;
            Phase("runtime");
            if (runtime.Supervisor is { } supervisor)
            {
                // Before the node registers, so that pods bound to it find their images.
                ImageArchives = new ImageArchiveLoader(options.ImagesDir, supervisor.ImportedArchivesFile, supervisor.Importer, runtime.Images, time, loggerFactory.CreateLogger<ImageArchiveLoader>());
                await ImageArchives.TryScanAsync(stoppingToken);
                Phase("image archives");
            }

            var nodeIp = options.NodeIp ?? MachineInfo.DefaultNodeIp();
            // Set up from here on, beside the registration: only the CNI configuration and the overlay device's address
            // wait for the pod CIDR, which the controller manager assigns once the node is registered.
            podNetwork = StartPodNetwork(runtime, options.PodCidr is { } podCidr ? Task.FromResult(podCidr) : assignedPodCidr.Task, nodeIp, overlay, stoppingToken);

            var machine = MachineInfo.Read(options.DataDir);
            var queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(time), time);
            runner = new ActionRunner(runtime.Runtime);
            var recorder = new EventRecorder(client, "kubelet", NodeName, time, loggerFactory.CreateLogger<EventRecorder>());
            var podEvents = new PodEvents(recorder);
            probes = new ProbeManager(runner, queue.Add, time, loggerFactory.CreateLogger<ProbeManager>(), podEvents);
            csiDrivers = new CsiDriverRegistry();
            var csiVolumes = new CsiVolumes(client, csiDrivers, options.PodsDir, options.PluginsDir, NodeName);
            var volumes = new PodVolumes(client, options.PodsDir, time, csiVolumes);
            var configs = new PodConfigBuilder(client, options, machine.Cpus, machine.MemoryBytes);
            devices = new DeviceRegistry(options.ResolvedDevicePluginsDir, loggerFactory.CreateLogger<DeviceRegistry>());
            var syncer = new PodSyncer(client, runtime.Runtime, runtime.Images, configs, volumes, probes, runner, options, nodeIp, time, loggerFactory.CreateLogger<PodSyncer>(), podEvents, devices);

            using var certificate = KubeletServingCertificate.LoadOrCreate(options.DataDir, NodeName, nodeIp, time);
            // The endpoint starts beside registration when its port is fixed: the Node only needs to name the port, and
            // nothing reaches the endpoint before the node is Ready. A port the system picks must be known first.
            serverStart = Task.Run(() => KubeletServer.StartAsync(options.KubeletPort, certificate, ClientCaPem, EndpointToken, syncer, runtime.Runtime, NodeName, loggerFactory, time, stoppingToken), stoppingToken);
            if (options.KubeletPort == 0)
            {
                server = await serverStart;
                Phase("endpoint");
            }

            var endpointPort = server?.Port ?? options.KubeletPort;
            using var nodeStatus = new NodeStatusController(client, runtime.Runtime, options, endpointPort, time, loggerFactory.CreateLogger<NodeStatusController>(), recorder, devices, csiVolumes.VolumesInUse)
            {
                StartedUp = Task.WhenAll(podNetwork, runtime.Supervisor?.SandboxImageReady ?? Task.CompletedTask),
            };
            await RetryAsync(ct => nodeStatus.RegisterAsync(ct), stoppingToken);
            Phase("registered");
            // The node's capacity and conditions, written beside the wait for its pod CIDR: both ask others (the
            // runtime, the controller manager) and neither needs the other.
            using var firstStatusStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var firstStatus = RetryAsync(ct => nodeStatus.UpdateStatusAsync(force: true, ct), firstStatusStop.Token);
            try
            {
                if (options.PodCidr is null)
                {
                    // The runtime reports its network not ready (and so the node NotReady) until this config exists.
                    var assigned = await nodeStatus.WaitForPodCidrAsync(stoppingToken);
                    LogPodCidr(logger, NodeName, assigned);
                    assignedPodCidr.TrySetResult(assigned);
                    Phase("pod CIDR");
                }

                if (server is null)
                {
                    server = await serverStart;
                    Phase("endpoint");
                }

                await firstStatus;
            }
            catch
            {
                // A start failing meanwhile (its endpoint's port taken) ends the status retries before the controller
                // they call is disposed; left running they would retry on it for as long as the process lives.
                await firstStatusStop.CancelAsync();
                await Task.WhenAny(firstStatus);
                throw;
            }

            Phase("status");
            KubeletPort = server.Port;
            using var csiAttacher = new CsiAttacher(AttacherClient ?? client, csiDrivers, NodeName, time, loggerFactory.CreateLogger<CsiAttacher>());
            var csiWatcher = new CsiPluginWatcher(options.PluginsRegistryDir, csiDrivers, new CsiNodeWriter(client, NodeName), time, loggerFactory.CreateLogger<CsiPluginWatcher>());
            var lease = new NodeLeaseController(client, NodeName, options.LeaseDurationSeconds, time);

            var informer = new SharedInformer<Pod>(
                client.Resource<Pod>(),
                new SharedInformerOptions { FieldSelector = "spec.nodeName=" + NodeName },
                time,
                loggerFactory.CreateLogger("Kubesharp.Kubelet.PodInformer"));
            informer.AddEventHandler(
                onAdd: pod => { syncer.Upsert(pod); queue.Add(pod.Metadata!.Uid!); },
                onUpdate: (_, pod) => { syncer.Upsert(pod); queue.Add(pod.Metadata!.Uid!); },
                onDelete: pod => { syncer.Remove(pod); queue.Add(pod.Metadata!.Uid!); });
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var informerTask = informer.RunAsync(stopping.Token);
            await informer.WaitForSyncAsync(stoppingToken);
            Phase("pods listed");

            // Pods deleted while the agent was down: whatever the runtime or the disk has of them goes.
            var pleg = new PodLifecycleEventGenerator(runtime.Runtime);
            await pleg.RelistAsync(stoppingToken);
            foreach (var uid in pleg.KnownUids().Concat(volumes.KnownPodUids()).Concat(devices.PodUids()).Distinct())
            {
                if (!syncer.Pods.ContainsKey(uid))
                {
                    queue.Add(uid);
                }
            }

            // Both made ready beside everything above, and pods need both. A node that cannot import the sandbox image
            // fails to start.
            await podNetwork.WaitAsync(stoppingToken);
            Phase(overlay is null ? "pod network" : "overlay");
            if (runtime.Supervisor is { } imports)
            {
                await imports.SandboxImageReady.WaitAsync(stoppingToken);
                Phase("sandbox image");
            }

            // The device plugin sockets start once the node has reported Ready (or when it cannot turn Ready soon):
            // building their servers takes more CPU than anything else of the agent's start, and nothing before Ready
            // needs them (plugins wait for kubelet.sock to appear).
            var reportedReady = ReportedReadyOrLateAsync(nodeStatus, stoppingToken);
            deviceServers = Task.Run(
                async () =>
                {
                    await reportedReady;
                    return await StartDeviceServersAsync(devices, syncer, stoppingToken);
                },
                stoppingToken);
            var worker = new ReconcileWorker("pod-sync", queue, syncer.SyncAsync, loggerFactory.CreateLogger("Kubesharp.Kubelet.PodWorkers"));
            var loops = new[]
            {
                worker.RunAsync(options.PodWorkers, stopping.Token),
                EveryAsync(options.LeaseRenewInterval, ct => lease.RenewAsync(nodeStatus.NodeUid, ct), stopping.Token),
                // Until the node is first Ready (containerd loads the CNI configuration a moment after it is written), the
                // runtime's status is read often, two local calls each, so the node turns Ready as soon as it can instead
                // of sitting NotReady for a whole 10 s period: every 10 ms in the agent's first seconds, when a start is
                // waited for, then every 50 ms, so that a node kept NotReady costs little.
                EveryAsync(
                    () => nodeStatus.Ready ? TimeSpan.FromSeconds(10)
                        : time.GetElapsedTime(startedAt) < TimeSpan.FromSeconds(5) ? TimeSpan.FromMilliseconds(10)
                        : TimeSpan.FromMilliseconds(50),
                    ct => nodeStatus.UpdateStatusAsync(false, ct),
                    stopping.Token),
                EveryAsync(options.RelistPeriod, async ct =>
                {
                    foreach (var uid in await pleg.RelistAsync(ct))
                    {
                        queue.Add(uid);
                    }
                }, stopping.Token),
                // Device changes (a plugin registering, a device turning unhealthy) reach the Node at once.
                EveryAsync(TimeSpan.Zero, async ct =>
                {
                    await devices.WaitForChangeAsync(ct);
                    await nodeStatus.UpdateStatusAsync(false, ct);
                }, stopping.Token),
                informerTask,
                recorder.RunAsync(stopping.Token),
                csiWatcher.RunAsync(stopping.Token),
                csiAttacher.RunAsync(2, stopping.Token),
                ImageArchives?.RunAsync(stopping.Token) ?? Task.CompletedTask,
                new LocalPathProvisioner(ProvisionerClient ?? client, n => n == NodeName, options.ResolvedLocalStorageDir, time, loggerFactory.CreateLogger<LocalPathProvisioner>()).RunAsync(2, stopping.Token),
            };
            if (overlay?.Link is not null)
            {
                // Not a completed task when there is none: the first loop to end stops the node.
                loops = [.. loops, overlay.RunAsync(stopping.Token)];
            }

            // Up with the workers running, without waiting for the device servers.
            await reportedReady;
            up.TrySetResult();
            (devicePlugins, podResources) = await deviceServers;
            Phase("device servers");
            LogStarted(logger, NodeName, server.Port);
            ready.TrySetResult();
            await Task.WhenAny(loops);
            await stopping.CancelAsync();
            queue.ShutDown();
            await Task.WhenAll(loops.Select(IgnoreCancellation));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            up.TrySetCanceled(stoppingToken);
            ready.TrySetCanceled(stoppingToken);
        }
        catch (Exception e)
        {
            LogFailed(logger, e);
            up.TrySetException(e);
            ready.TrySetException(e);
            throw;
        }
        finally
        {
            // A set-up still under way (perhaps waiting for a pod CIDR that will not come) ends before the overlay is removed.
            assignedPodCidr.TrySetCanceled(CancellationToken.None);
            await Task.WhenAny(podNetwork);
            if (overlay is not null && File.Exists(OverlayRecord.PathIn(options.DataDir)))
            {
                // Its run removes it too; this covers a start that failed before the run began.
                try
                {
                    await overlay.Network.TearDownAsync(CancellationToken.None);
                    OverlayRecord.Delete(options.DataDir);
                }
                catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception)
                {
                    LogOverlayRemoveFailed(logger, e);
                }
            }

            if (server is null && serverStart is not null)
            {
                // A start that failed while the endpoint was starting: stop it if it did start.
                try
                {
                    server = await serverStart;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // Its failure is not this start's; the start's own error is already on its way out.
                }
            }

            if (server is not null)
            {
                await server.DisposeAsync();
            }

            if (devicePlugins is null && podResources is null && deviceServers is not null)
            {
                // A start that failed while they were starting: what did start is stopped below.
                try
                {
                    (devicePlugins, podResources) = await deviceServers;
                }
                catch (OperationCanceledException)
                {
                }
            }

            if (podResources is not null)
            {
                await podResources.DisposeAsync();
            }

            if (devicePlugins is not null)
            {
                await devicePlugins.DisposeAsync();
            }

            if (devices is not null)
            {
                await devices.DisposeAsync();
            }

            csiDrivers?.Dispose();

            if (probes is not null)
            {
                await probes.DisposeAsync();
            }

            runner?.Dispose();
            if (runtime is not null)
            {
                await runtime.DisposeAsync();
            }
        }
    }

    /// <summary>Until the node has written a Ready status, or 5 s when it cannot turn Ready soon.</summary>
    private async Task ReportedReadyOrLateAsync(NodeStatusController nodeStatus, CancellationToken cancellationToken)
    {
        try
        {
            await nodeStatus.ReportedReady.WaitAsync(TimeSpan.FromSeconds(5), time, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>The device plugin Registration and pod resources sockets; a node runs on without them when they cannot be served.</summary>
    private async Task<(DevicePluginServer?, PodResourcesServer?)> StartDeviceServersAsync(DeviceRegistry devices, PodSyncer syncer, CancellationToken cancellationToken)
    {
        DevicePluginServer? registration = null;
        PodResourcesServer? podResources = null;
        try
        {
            registration = await DevicePluginServer.StartAsync(devices, cancellationToken);
        }
        catch (IOException e)
        {
            LogDeviceServerFailed(logger, Path.Combine(devices.Directory, DevicePluginServer.SocketName), e);
        }

        try
        {
            podResources = await PodResourcesServer.StartAsync(options.ResolvedPodResourcesSocket, devices, () => syncer.Pods.Values, cancellationToken);
        }
        catch (IOException e)
        {
            LogDeviceServerFailed(logger, options.ResolvedPodResourcesSocket, e);
        }

        return (registration, podResources);
    }

    private Task EveryAsync(TimeSpan period, Func<CancellationToken, Task> action, CancellationToken cancellationToken) =>
        EveryAsync(() => period, action, cancellationToken);

    private async Task EveryAsync(Func<TimeSpan> period, Func<CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await action(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogLoopFailed(logger, e);
            }

            try
            {
                await Task.Delay(period(), time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Writes the CNI configuration of the pod range once it is known and returns the overlay's set-up, which the node's
    /// Ready and its pods wait for. With an overlay the configuration is written as soon as the range is known, for the
    /// MTU the node's link implies, masquerading left to the overlay's rules, so that containerd loads it while the
    /// overlay is set up (several ip and iptables runs, all but the device's address before the range is known); the
    /// configuration is written again should the set-up yield another MTU, or fail: a node whose overlay cannot be set
    /// up still runs its own pods, its bridge masquerading for them.
    /// </summary>
    private Task StartPodNetwork(ContainerRuntime runtime, Task<string> podCidr, string nodeIp, OverlayController? overlay, CancellationToken cancellationToken)
    {
        async Task WriteWhenAssignedAsync(OverlayLink? link) => WriteCniConfig(runtime, await podCidr.WaitAsync(cancellationToken), link);

        if (overlay is null)
        {
            return WriteWhenAssignedAsync(null);
        }

        if (!System.Net.IPAddress.TryParse(nodeIp, out var address) || System.Net.IPAddress.IsLoopback(address))
        {
            LogOverlaySkipped(logger, nodeIp, "the node address is not one other nodes can reach");
            return WriteWhenAssignedAsync(null);
        }

        // Recorded first, so that killall finds what a crash in the middle left.
        OverlayRecord.Write(options.DataDir, overlay.Network.Options);
        var expected = overlay.Network.ExpectedLink(address);
        var written = expected is null ? Task.CompletedTask : WriteWhenAssignedAsync(expected);
        return Task.Run(
            async () =>
            {
                OverlayLink? link;
                try
                {
                    link = await overlay.SetUpAsync(address, podCidr, cancellationToken);
                }
                catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception or System.Text.Json.JsonException)
                {
                    // No iproute2, no VXLAN support, an address on no link: the node runs its own pods all the same.
                    LogOverlaySkipped(logger, nodeIp, e.Message);
                    link = null;
                }

                await written;
                if (expected is null || link?.Mtu != expected.Mtu)
                {
                    await WriteWhenAssignedAsync(link);
                }
            },
            cancellationToken);
    }

    /// <summary>The bridge network for the pod range: the overlay's MTU and no masquerading of its own with an overlay.</summary>
    private void WriteCniConfig(ContainerRuntime runtime, string podCidr, OverlayLink? link)
    {
        if (runtime.Supervisor is { } supervisor)
        {
            CniConfigWriter.Write(supervisor.Layout.CniConfDir, new CniNetworkOptions
            {
                PodCidr = podCidr,
                BridgeName = options.BridgeName,
                NetworkName = options.NetworkName,
                IpamDataDir = supervisor.Layout.CniIpamDir,
                Mtu = link?.Mtu ?? 0,
                IpMasq = link is null,
            });
        }
    }

    private async Task RetryAsync(Func<CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                await action(cancellationToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
            {
                LogLoopFailed(logger, e);
                await Task.Delay(delay, time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Node start: {Phase} after {Milliseconds} ms")]
    private static partial void LogPhase(ILogger logger, string phase, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node agent for {Node} running; endpoint on port {Port}")]
    private static partial void LogStarted(ILogger logger, string node, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node} has pod CIDR {PodCidr}; pods get addresses from it")]
    private static partial void LogPodCidr(ILogger logger, string node, string podCidr);

    [LoggerMessage(Level = LogLevel.Error, Message = "No pod network to other nodes from {NodeIp}: {Reason}")]
    private static partial void LogOverlaySkipped(ILogger logger, string nodeIp, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the pod network between nodes; kubesharp killall removes it")]
    private static partial void LogOverlayRemoveFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Node agent failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not serve {Socket}; device plugins or pod resources are unavailable on this node")]
    private static partial void LogDeviceServerFailed(ILogger logger, string socket, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node agent loop failed; retrying")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);
}
