using Kubesharp.Grpc;
using Kubesharp.Kubelet.Devices.V1Beta1;

namespace Kubesharp.Kubelet.Devices;

/// <summary>The agent's connection to one registered device plugin, on the socket the plugin named.</summary>
internal sealed class DevicePluginEndpoint : IDisposable
{
    private static readonly Method<Empty, ListAndWatchResponse> ListAndWatch = new("/v1beta1.DevicePlugin/ListAndWatch", ListAndWatchResponse.Parser);
    private static readonly Method<AllocateRequest, AllocateResponse> Allocate = new("/v1beta1.DevicePlugin/Allocate", AllocateResponse.Parser);
    private static readonly Method<PreferredAllocationRequest, PreferredAllocationResponse> GetPreferredAllocation = new("/v1beta1.DevicePlugin/GetPreferredAllocation", PreferredAllocationResponse.Parser);
    private static readonly Method<PreStartContainerRequest, PreStartContainerResponse> PreStartContainer = new("/v1beta1.DevicePlugin/PreStartContainer", PreStartContainerResponse.Parser);
    private static readonly CallOptions Timed = new() { Timeout = TimeSpan.FromSeconds(30) };

    private readonly GrpcChannel channel;

    public DevicePluginEndpoint(string resourceName, string socketPath, DevicePluginOptions options)
    {
        ResourceName = resourceName;
        SocketPath = socketPath;
        Options = options;
        channel = GrpcChannel.ForUnixSocket(socketPath);
    }

    public string ResourceName { get; }

    public string SocketPath { get; }

    public DevicePluginOptions Options { get; }

    /// <summary>The plugin's device lists, each the whole set, until the plugin ends the stream or goes away.</summary>
    public IAsyncEnumerable<ListAndWatchResponse> WatchAsync(CancellationToken cancellationToken) =>
        channel.ServerStreamingAsync(ListAndWatch, new Empty(), cancellationToken: cancellationToken);

    public async Task<ContainerAllocateResponse> AllocateAsync(IEnumerable<string> deviceIds, CancellationToken cancellationToken)
    {
        var request = new AllocateRequest();
        request.ContainerRequests.Add(new ContainerAllocateRequest { DevicesIds = { deviceIds } });
        var response = await channel.UnaryAsync(Allocate, request, Timed, cancellationToken);
        return response.ContainerResponses.Count == 1
            ? response.ContainerResponses[0]
            : throw new RpcException(StatusCode.Internal, $"the {ResourceName} plugin answered Allocate with {response.ContainerResponses.Count} container responses for one container");
    }

    /// <summary>The plugin's choice of <paramref name="size"/> devices among <paramref name="available"/>.</summary>
    public async Task<IReadOnlyList<string>> PreferredAllocationAsync(IEnumerable<string> available, IEnumerable<string> mustInclude, int size, CancellationToken cancellationToken)
    {
        var request = new PreferredAllocationRequest();
        request.ContainerRequests.Add(new ContainerPreferredAllocationRequest
        {
            AvailableDeviceIDs = { available },
            MustIncludeDeviceIDs = { mustInclude },
            AllocationSize = size,
        });
        var response = await channel.UnaryAsync(GetPreferredAllocation, request, Timed, cancellationToken);
        return response.ContainerResponses.Count == 1 ? response.ContainerResponses[0].DeviceIDs : [];
    }

    public async Task PreStartAsync(IEnumerable<string> deviceIds, CancellationToken cancellationToken) =>
        await channel.UnaryAsync(PreStartContainer, new PreStartContainerRequest { DevicesIds = { deviceIds } }, Timed, cancellationToken);

    public void Dispose() => channel.Dispose();
}
