using Google.Protobuf;
using Kubesharp.Grpc;
using Kubesharp.Kubelet.Csi.V1;

namespace Kubesharp.Kubelet.Csi;

/// <summary>The agent's CSI v1 connection to one driver: its Node service and, when it serves one, its Controller service.</summary>
internal sealed class CsiDriverClient : IDisposable
{
    private static readonly CallOptions Timed = new() { Timeout = TimeSpan.FromMinutes(2) };
    private readonly GrpcChannel channel;

    public CsiDriverClient(string endpoint)
    {
        Endpoint = endpoint;
        channel = GrpcChannel.ForUnixSocket(endpoint);
    }

    /// <summary>The driver's CSI socket.</summary>
    public string Endpoint { get; }

    public Task<NodeGetInfoResponse> NodeGetInfoAsync(CancellationToken cancellationToken) =>
        CallAsync<NodeGetInfoRequest, NodeGetInfoResponse>("Node/NodeGetInfo", new NodeGetInfoRequest(), cancellationToken);

    /// <summary>Whether the driver stages volumes (STAGE_UNSTAGE_VOLUME) before publishing them.</summary>
    public async Task<bool> StagesVolumesAsync(CancellationToken cancellationToken)
    {
        var response = await CallAsync<NodeGetCapabilitiesRequest, NodeGetCapabilitiesResponse>("Node/NodeGetCapabilities", new NodeGetCapabilitiesRequest(), cancellationToken);
        return response.Capabilities.Any(c => c.Rpc?.Type == NodeServiceCapability.Types.RPC.Types.Type.StageUnstageVolume);
    }

    /// <summary>Whether the driver publishes volumes to nodes (PUBLISH_UNPUBLISH_VOLUME); a driver without a Controller service does not.</summary>
    public async Task<bool> PublishesToNodesAsync(CancellationToken cancellationToken)
    {
        try
        {
            var response = await CallAsync<ControllerGetCapabilitiesRequest, ControllerGetCapabilitiesResponse>("Controller/ControllerGetCapabilities", new ControllerGetCapabilitiesRequest(), cancellationToken);
            return response.Capabilities.Any(c => c.Rpc?.Type == ControllerServiceCapability.Types.RPC.Types.Type.PublishUnpublishVolume);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            return false;
        }
    }

    public Task<NodeStageVolumeResponse> NodeStageVolumeAsync(NodeStageVolumeRequest request, CancellationToken cancellationToken) =>
        CallAsync<NodeStageVolumeRequest, NodeStageVolumeResponse>("Node/NodeStageVolume", request, cancellationToken);

    public Task<NodeUnstageVolumeResponse> NodeUnstageVolumeAsync(NodeUnstageVolumeRequest request, CancellationToken cancellationToken) =>
        CallAsync<NodeUnstageVolumeRequest, NodeUnstageVolumeResponse>("Node/NodeUnstageVolume", request, cancellationToken);

    public Task<NodePublishVolumeResponse> NodePublishVolumeAsync(NodePublishVolumeRequest request, CancellationToken cancellationToken) =>
        CallAsync<NodePublishVolumeRequest, NodePublishVolumeResponse>("Node/NodePublishVolume", request, cancellationToken);

    public Task<NodeUnpublishVolumeResponse> NodeUnpublishVolumeAsync(NodeUnpublishVolumeRequest request, CancellationToken cancellationToken) =>
        CallAsync<NodeUnpublishVolumeRequest, NodeUnpublishVolumeResponse>("Node/NodeUnpublishVolume", request, cancellationToken);

    public Task<ControllerPublishVolumeResponse> ControllerPublishVolumeAsync(ControllerPublishVolumeRequest request, CancellationToken cancellationToken) =>
        CallAsync<ControllerPublishVolumeRequest, ControllerPublishVolumeResponse>("Controller/ControllerPublishVolume", request, cancellationToken);

    public Task<ControllerUnpublishVolumeResponse> ControllerUnpublishVolumeAsync(ControllerUnpublishVolumeRequest request, CancellationToken cancellationToken) =>
        CallAsync<ControllerUnpublishVolumeRequest, ControllerUnpublishVolumeResponse>("Controller/ControllerUnpublishVolume", request, cancellationToken);

    public void Dispose() => channel.Dispose();

    private Task<TResponse> CallAsync<TRequest, TResponse>(string method, TRequest request, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>, new() =>
        channel.UnaryAsync(new Method<TRequest, TResponse>("/csi.v1." + method, new MessageParser<TResponse>(() => new TResponse())), request, Timed, cancellationToken);
}
