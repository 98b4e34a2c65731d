using System.Collections.Concurrent;
using System.Diagnostics;
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
        csiServer = await UnixGrpcServer.StartAsync(Path.Combine(Root, "csi.sock"), CsiMethods(), cancellationToken);
        registrationServer = await UnixGrpcServer.StartAsync(RegistrationSocket, new GrpcMethods()
            .Unary<InfoRequest, PluginInfo>("/pluginregistration.Registration/GetInfo", InfoRequest.Parser, (_, _) =>
                Task.FromResult(new PluginInfo { Type = CsiPluginWatcher.PluginType, Name = Name, Endpoint = csiServer.SocketPath, SupportedVersions = { "1.0.0" } }))
            .Unary<RegistrationStatus, RegistrationStatusResponse>("/pluginregistration.Registration/NotifyRegistrationStatus", RegistrationStatus.Parser, (status, _) =>
            {
                Status = status;
                return Task.FromResult(new RegistrationStatusResponse());
            }), cancellationToken);
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

    private GrpcMethods CsiMethods() => new GrpcMethods()
        .Unary<GetPluginInfoRequest, GetPluginInfoResponse>("/csi.v1.Identity/GetPluginInfo", GetPluginInfoRequest.Parser, (_, _) =>
            Task.FromResult(new GetPluginInfoResponse { Name = Name, VendorVersion = "0.1.0" }))
        .Unary<NodeGetInfoRequest, NodeGetInfoResponse>("/csi.v1.Node/NodeGetInfo", NodeGetInfoRequest.Parser, (_, _) =>
            Task.FromResult(new NodeGetInfoResponse { NodeId = NodeId, MaxVolumesPerNode = 8, AccessibleTopology = new Topology { Segments = { [TopologyKey] = "zone-a" } } }))
        .Unary<NodeGetCapabilitiesRequest, NodeGetCapabilitiesResponse>("/csi.v1.Node/NodeGetCapabilities", NodeGetCapabilitiesRequest.Parser, (_, _) =>
        {
            var response = new NodeGetCapabilitiesResponse();
            if (stages)
            {
                response.Capabilities.Add(new NodeServiceCapability { Rpc = new NodeServiceCapability.Types.RPC { Type = NodeServiceCapability.Types.RPC.Types.Type.StageUnstageVolume } });
            }

            return Task.FromResult(response);
        })
        .Unary<ControllerGetCapabilitiesRequest, ControllerGetCapabilitiesResponse>("/csi.v1.Controller/ControllerGetCapabilities", ControllerGetCapabilitiesRequest.Parser, (_, _) =>
        {
            if (!controller)
            {
                throw new Grpc.RpcException(Grpc.StatusCode.Unimplemented, "no controller service");
            }

            return Task.FromResult(new ControllerGetCapabilitiesResponse
            {
                Capabilities = { new ControllerServiceCapability { Rpc = new ControllerServiceCapability.Types.RPC { Type = ControllerServiceCapability.Types.RPC.Types.Type.PublishUnpublishVolume } } },
            });
        })
        .Unary<ControllerPublishVolumeRequest, ControllerPublishVolumeResponse>("/csi.v1.Controller/ControllerPublishVolume", ControllerPublishVolumeRequest.Parser, (request, _) =>
        {
            Calls.Enqueue($"ControllerPublishVolume:{request.VolumeId}:{request.NodeId}:{request.VolumeCapability.AccessMode.Mode}");
            return Task.FromResult(new ControllerPublishVolumeResponse { PublishContext = { ["devicePath"] = "/dev/fake-" + request.VolumeId } });
        })
        .Unary<ControllerUnpublishVolumeRequest, ControllerUnpublishVolumeResponse>("/csi.v1.Controller/ControllerUnpublishVolume", ControllerUnpublishVolumeRequest.Parser, (request, _) =>
        {
            Calls.Enqueue($"ControllerUnpublishVolume:{request.VolumeId}:{request.NodeId}");
            return Task.FromResult(new ControllerUnpublishVolumeResponse());
        })
        .Unary<NodeStageVolumeRequest, NodeStageVolumeResponse>("/csi.v1.Node/NodeStageVolume", NodeStageVolumeRequest.Parser, async (request, cancellationToken) =>
        {
            Calls.Enqueue($"NodeStageVolume:{request.VolumeId}:{request.StagingTargetPath}:{request.PublishContext.GetValueOrDefault("devicePath")}:{request.VolumeCapability.Mount.FsType}");
            var source = Path.Combine(BackingDir, request.VolumeId);
            Directory.CreateDirectory(source);
            await BindAsync(source, request.StagingTargetPath, cancellationToken);
            return new NodeStageVolumeResponse();
        })
        .Unary<NodeUnstageVolumeRequest, NodeUnstageVolumeResponse>("/csi.v1.Node/NodeUnstageVolume", NodeUnstageVolumeRequest.Parser, async (request, cancellationToken) =>
        {
            Calls.Enqueue($"NodeUnstageVolume:{request.VolumeId}:{request.StagingTargetPath}");
            await UnmountAsync(request.StagingTargetPath, cancellationToken);
            return new NodeUnstageVolumeResponse();
        })
        .Unary<NodePublishVolumeRequest, NodePublishVolumeResponse>("/csi.v1.Node/NodePublishVolume", NodePublishVolumeRequest.Parser, async (request, cancellationToken) =>
        {
            var context = string.Join(",", request.VolumeContext.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key + "=" + c.Value));
            Calls.Enqueue($"NodePublishVolume:{request.VolumeId}:{request.StagingTargetPath}:{request.TargetPath}:{request.Readonly}:{request.VolumeCapability.AccessMode.Mode}:{context}");
            var source = request.StagingTargetPath.Length > 0 ? request.StagingTargetPath : Path.Combine(BackingDir, request.VolumeId);
            Directory.CreateDirectory(source);
            Directory.CreateDirectory(request.TargetPath);
            await BindAsync(source, request.TargetPath, cancellationToken);
            return new NodePublishVolumeResponse();
        })
        .Unary<NodeUnpublishVolumeRequest, NodeUnpublishVolumeResponse>("/csi.v1.Node/NodeUnpublishVolume", NodeUnpublishVolumeRequest.Parser, async (request, cancellationToken) =>
        {
            Calls.Enqueue($"NodeUnpublishVolume:{request.VolumeId}:{request.TargetPath}");
            await UnmountAsync(request.TargetPath, cancellationToken);
            if (Directory.Exists(request.TargetPath))
            {
                Directory.Delete(request.TargetPath);
            }

            return new NodeUnpublishVolumeResponse();
        });

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
            throw new Grpc.RpcException(Grpc.StatusCode.Internal, $"{command} {string.Join(' ', arguments)} failed: {error}");
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
