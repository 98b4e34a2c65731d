using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Kubesharp.Kubelet.Csi;
using Kubesharp.Kubelet.Csi.PluginRegistration;
using Kubesharp.Kubelet.Csi.V1;
using Kubesharp.Kubelet.Devices;

namespace Kubesharp.Kubelet.Tests.Csi;

/// <summary>
/// A CSI driver for tests, served over gRPC on a unix socket, with its own registrar socket in the agent's
/// plugins_registry directory (what node-driver-registrar does for real drivers). Each volume is a directory under
/// <see cref="BackingDir"/>: staging bind-mounts it onto the staging path, publishing bind-mounts the staged path (or
/// the directory, for a driver that does not stage) onto the pod's target path. The controller service answers
/// ControllerPublishVolume with a device path in the publish context. Every call is recorded in <see cref="Calls"/>.
/// </summary>
internal sealed class TestCsiDriver : IAsyncDisposable
{
    public const string TopologyKey = "topology.csi.kubesharp.test/zone";
    private readonly string registryDir;
    private readonly bool stages;
    private readonly bool controller;
    private readonly ConcurrentDictionary<string, byte> mounts = new(StringComparer.Ordinal);
    private UnixGrpcServer? csiServer;
    private UnixGrpcServer? registrationServer;

    public TestCsiDriver(string name, string registryDir, string root, bool stages, bool controller)
    {
        Name = name;
        this.registryDir = registryDir;
        this.stages = stages;
        this.controller = controller;
        Root = root;
        BackingDir = Path.Combine(root, "backing");
        Directory.CreateDirectory(BackingDir);
    }

    public string Name { get; }

    public string Root { get; }

    /// <summary>Where each volume's data lives, a directory per volume handle.</summary>
    public string BackingDir { get; }

    public string NodeId => "test-node-" + Name;

    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>The registration outcome the agent reported last (NotifyRegistrationStatus).</summary>
    public RegistrationStatus? Status { get; private set; }

    public string RegistrationSocket => Path.Combine(registryDir, Name + "-reg.sock");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var csiServices = new GrpcServiceSet().Add(new IdentityService(this)).Add(new NodeService(this));
        if (controller)
        {
            csiServices.Add(new ControllerService(this));
        }

        csiServer = await UnixGrpcServer.StartAsync(Path.Combine(Root, "csi.sock"), csiServices, cancellationToken);
        registrationServer = await UnixGrpcServer.StartAsync(RegistrationSocket, new GrpcServiceSet().Add(new RegistrarService(this, csiServer.SocketPath)), cancellationToken);
    }

    /// <summary>Removes the registration socket, as a registrar does when its driver stops.</summary>
    public async Task StopRegistrationAsync()
    {
        if (registrationServer is not null)
        {
            await registrationServer.DisposeAsync();
            registrationServer = null;
        }
    }

    private sealed class RegistrarService(TestCsiDriver driver, string endpoint) : Registration.RegistrationBase
    {
        public override Task<PluginInfo> GetInfo(InfoRequest request, ServerCallContext context) =>
            Task.FromResult(new PluginInfo { Type = CsiPluginWatcher.PluginType, Name = driver.Name, Endpoint = endpoint, SupportedVersions = { "1.0.0" } });

        public override Task<RegistrationStatusResponse> NotifyRegistrationStatus(RegistrationStatus request, ServerCallContext context)
        {
            driver.Status = request;
            return Task.FromResult(new RegistrationStatusResponse());
        }
    }

    private sealed class IdentityService(TestCsiDriver driver) : Identity.IdentityBase
    {
        public override Task<GetPluginInfoResponse> GetPluginInfo(GetPluginInfoRequest request, ServerCallContext context) =>
            Task.FromResult(new GetPluginInfoResponse { Name = driver.Name, VendorVersion = "0.1.0" });
    }

    /// <summary>Served only by a driver with a controller; without it, the base answers Unimplemented.</summary>
    private sealed class ControllerService(TestCsiDriver driver) : Controller.ControllerBase
    {
        public override Task<ControllerGetCapabilitiesResponse> ControllerGetCapabilities(ControllerGetCapabilitiesRequest request, ServerCallContext context) =>
            Task.FromResult(new ControllerGetCapabilitiesResponse
            {
                Capabilities = { new ControllerServiceCapability { Rpc = new ControllerServiceCapability.Types.RPC { Type = ControllerServiceCapability.Types.RPC.Types.Type.PublishUnpublishVolume } } },
            });

        public override Task<ControllerPublishVolumeResponse> ControllerPublishVolume(ControllerPublishVolumeRequest request, ServerCallContext context)
        {
            driver.Calls.Enqueue($"ControllerPublishVolume:{request.VolumeId}:{request.NodeId}:{request.VolumeCapability.AccessMode.Mode}");
            return Task.FromResult(new ControllerPublishVolumeResponse { PublishContext = { ["devicePath"] = "/dev/fake-" + request.VolumeId } });
        }

        public override Task<ControllerUnpublishVolumeResponse> ControllerUnpublishVolume(ControllerUnpublishVolumeRequest request, ServerCallContext context)
        {
            driver.Calls.Enqueue($"ControllerUnpublishVolume:{request.VolumeId}:{request.NodeId}");
            return Task.FromResult(new ControllerUnpublishVolumeResponse());
        }
    }

    private sealed class NodeService(TestCsiDriver driver) : Node.NodeBase
    {
        public override Task<NodeGetInfoResponse> NodeGetInfo(NodeGetInfoRequest request, ServerCallContext context) =>
            Task.FromResult(new NodeGetInfoResponse { NodeId = driver.NodeId, MaxVolumesPerNode = 8, AccessibleTopology = new Topology { Segments = { [TopologyKey] = "zone-a" } } });

        public override Task<NodeGetCapabilitiesResponse> NodeGetCapabilities(NodeGetCapabilitiesRequest request, ServerCallContext context)
        {
            var response = new NodeGetCapabilitiesResponse();
            if (driver.stages)
            {
                response.Capabilities.Add(new NodeServiceCapability { Rpc = new NodeServiceCapability.Types.RPC { Type = NodeServiceCapability.Types.RPC.Types.Type.StageUnstageVolume } });
            }

            return Task.FromResult(response);
        }

        public override async Task<NodeStageVolumeResponse> NodeStageVolume(NodeStageVolumeRequest request, ServerCallContext context)
        {
            driver.Calls.Enqueue($"NodeStageVolume:{request.VolumeId}:{request.StagingTargetPath}:{request.PublishContext.GetValueOrDefault("devicePath")}:{request.VolumeCapability.Mount.FsType}");
            var source = Path.Combine(driver.BackingDir, request.VolumeId);
            Directory.CreateDirectory(source);
            await driver.BindAsync(source, request.StagingTargetPath, context.CancellationToken);
            return new NodeStageVolumeResponse();
        }

        public override async Task<NodeUnstageVolumeResponse> NodeUnstageVolume(NodeUnstageVolumeRequest request, ServerCallContext context)
        {
            driver.Calls.Enqueue($"NodeUnstageVolume:{request.VolumeId}:{request.StagingTargetPath}");
            await driver.UnmountAsync(request.StagingTargetPath, context.CancellationToken);
            return new NodeUnstageVolumeResponse();
        }

        public override async Task<NodePublishVolumeResponse> NodePublishVolume(NodePublishVolumeRequest request, ServerCallContext context)
        {
            var volumeContext = string.Join(",", request.VolumeContext.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key + "=" + c.Value));
            driver.Calls.Enqueue($"NodePublishVolume:{request.VolumeId}:{request.StagingTargetPath}:{request.TargetPath}:{request.Readonly}:{request.VolumeCapability.AccessMode.Mode}:{volumeContext}");
            var source = request.StagingTargetPath.Length > 0 ? request.StagingTargetPath : Path.Combine(driver.BackingDir, request.VolumeId);
            Directory.CreateDirectory(source);
            Directory.CreateDirectory(request.TargetPath);
            await driver.BindAsync(source, request.TargetPath, context.CancellationToken);
            return new NodePublishVolumeResponse();
        }

        public override async Task<NodeUnpublishVolumeResponse> NodeUnpublishVolume(NodeUnpublishVolumeRequest request, ServerCallContext context)
        {
            driver.Calls.Enqueue($"NodeUnpublishVolume:{request.VolumeId}:{request.TargetPath}");
            await driver.UnmountAsync(request.TargetPath, context.CancellationToken);
            if (Directory.Exists(request.TargetPath))
            {
                Directory.Delete(request.TargetPath);
            }

            return new NodeUnpublishVolumeResponse();
        }
    }

    private async Task BindAsync(string source, string target, CancellationToken cancellationToken)
    {
        if (mounts.ContainsKey(target))
        {
            return;
        }

        await RunAsync(cancellationToken, "mount", "--bind", source, target);
        mounts[target] = 0;
    }

    private async Task UnmountAsync(string target, CancellationToken cancellationToken)
    {
        if (mounts.TryRemove(target, out _))
        {
            await RunAsync(cancellationToken, "umount", target);
        }
    }

    private static async Task RunAsync(CancellationToken cancellationToken, string command, params string[] arguments)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.Internal, $"{command} {string.Join(' ', arguments)} failed: {error}"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopRegistrationAsync();
        if (csiServer is not null)
        {
            await csiServer.DisposeAsync();
        }

        foreach (var target in mounts.Keys.OrderByDescending(t => t.Length))
        {
            await UnmountAsync(target, CancellationToken.None);
        }
    }
}
