using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client;
using Kubesharp.Cri;
using Kubesharp.Kubelet.Devices.V1Beta1;

namespace Kubesharp.Kubelet.Devices;

/// <summary>The agent's connection to one registered device plugin, on the socket the plugin named.</summary>
internal sealed class DevicePluginEndpoint : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    private readonly GrpcChannel channel;
    private readonly DevicePlugin.DevicePluginClient client;

    public DevicePluginEndpoint(string resourceName, string socketPath, DevicePluginOptions options)
    {
        ResourceName = resourceName;
        SocketPath = socketPath;
        Options = options;
        channel = UnixSocketChannel.Create(socketPath);
        client = new DevicePlugin.DevicePluginClient(channel);
    }

    public string ResourceName { get; }

    public string SocketPath { get; }

    public DevicePluginOptions Options { get; }

    /// <summary>The plugin's device lists, each the whole set, until the plugin ends the stream or goes away.</summary>
    public async IAsyncEnumerable<ListAndWatchResponse> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var call = client.ListAndWatch(new Empty(), cancellationToken: cancellationToken);
        while (await call.ResponseStream.MoveNextAsync(cancellationToken))
        {
            yield return call.ResponseStream.Current;
        }
    }

    public async Task<ContainerAllocateResponse> AllocateAsync(IEnumerable<string> deviceIds, CancellationToken cancellationToken)
    {
        var request = new AllocateRequest();
        request.ContainerRequests.Add(new ContainerAllocateRequest { DevicesIds = { deviceIds } });
        var response = await client.AllocateAsync(request, Timed(cancellationToken)).CompleteAsync(cancellationToken);
        return response.ContainerResponses.Count == 1
            ? response.ContainerResponses[0]
            : throw new RpcException(new Status(StatusCode.Internal, $"the {ResourceName} plugin answered Allocate with {response.ContainerResponses.Count} container responses for one container"));
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
        var response = await client.GetPreferredAllocationAsync(request, Timed(cancellationToken)).CompleteAsync(cancellationToken);
        return response.ContainerResponses.Count == 1 ? response.ContainerResponses[0].DeviceIDs : [];
    }

    public async Task PreStartAsync(IEnumerable<string> deviceIds, CancellationToken cancellationToken) =>
        await client.PreStartContainerAsync(new PreStartContainerRequest { DevicesIds = { deviceIds } }, Timed(cancellationToken)).CompleteAsync(cancellationToken);

    public void Dispose() => channel.Dispose();

    private static CallOptions Timed(CancellationToken cancellationToken) =>
        new(deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken);
}
