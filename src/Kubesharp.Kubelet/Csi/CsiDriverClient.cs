using Grpc.Core;
using Grpc.Net.Client;
using Kubesharp.Cri;
using Kubesharp.Kubelet.Csi.V1;

namespace Kubesharp.Kubelet.Csi;

/// <summary>The agent's CSI v1 connection to one driver: its Node service and, when it serves one, its Controller service.</summary>
internal sealed class CsiDriverClient : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromMinutes(2);
    private readonly GrpcChannel channel;
    private readonly Node.NodeClient node;
    private readonly Controller.ControllerClient controller;

    public CsiDriverClient(string endpoint)
    {
        Endpoint = endpoint;
        channel = UnixSocketChannel.Create(endpoint);
        node = new Node.NodeClient(channel);
        controller = new Controller.ControllerClient(channel);
    }

    /// <summary>The driver's CSI socket.</summary>
    public string Endpoint { get; }

    public Task<NodeGetInfoResponse> NodeGetInfoAsync(CancellationToken cancellationToken) =>
        node.NodeGetInfoAsync(new NodeGetInfoRequest(), Timed(cancellationToken)).CompleteAsync(cancellationToken);

    /// <summary>Whether the driver stages volumes (STAGE_UNSTAGE_VOLUME) before publishing them.</summary>
    public async Task<bool> StagesVolumesAsync(CancellationToken cancellationToken)
    {
        var response = await node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest(), Timed(cancellationToken)).CompleteAsync(cancellationToken);
        return response.Capabilities.Any(c => c.Rpc?.Type == NodeServiceCapability.Types.RPC.Types.Type.StageUnstageVolume);
    }

    /// <summary>Whether the driver publishes volumes to nodes (PUBLISH_UNPUBLISH_VOLUME); a driver without a Controller service does not.</summary>
    public async Task<bool> PublishesToNodesAsync(CancellationToken cancellationToken)
    {
        try
        {
            var response = await controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest(), Timed(cancellationToken)).CompleteAsync(cancellationToken);
            return response.Capabilities.Any(c => c.Rpc?.Type == ControllerServiceCapability.Types.RPC.Types.Type.PublishUnpublishVolume);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            return false;
        }
    }

    public Task<NodeStageVolumeResponse> NodeStageVolumeAsync(NodeStageVolumeRequest request, CancellationToken cancellationToken) =>
        node.NodeStageVolumeAsync(request, Timed(cancellationToken)).CompleteAsync(cancellationToken);

    public Task<NodeUnstageVolumeResponse> NodeUnstageVolumeAsync(NodeUnstageVolumeRequest request, CancellationToken cancellationToken) =>
        node.NodeUnstageVolumeAsync(request, Timed(cancellationToken)).CompleteAsync(cancellationToken);

    public Task<NodePublishVolumeResponse> NodePublishVolumeAsync(NodePublishVolumeRequest request, CancellationToken cancellationToken) =>
        node.NodePublishVolumeAsync(request, Timed(cancellationToken)).CompleteAsync(cancellationToken);

    public Task<NodeUnpublishVolumeResponse> NodeUnpublishVolumeAsync(NodeUnpublishVolumeRequest request, CancellationToken cancellationToken) =>
        node.NodeUnpublishVolumeAsync(request, Timed(cancellationToken)).CompleteAsync(cancellationToken);

    public Task<ControllerPublishVolumeResponse> ControllerPublishVolumeAsync(ControllerPublishVolumeRequest request, CancellationToken cancellationToken) =>
        controller.ControllerPublishVolumeAsync(request, Timed(cancellationToken)).CompleteAsync(cancellationToken);

    public Task<ControllerUnpublishVolumeResponse> ControllerUnpublishVolumeAsync(ControllerUnpublishVolumeRequest request, CancellationToken cancellationToken) =>
        controller.ControllerUnpublishVolumeAsync(request, Timed(cancellationToken)).CompleteAsync(cancellationToken);

    public void Dispose() => channel.Dispose();

    private static CallOptions Timed(CancellationToken cancellationToken) =>
        new(deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken);
}
