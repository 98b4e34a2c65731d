using Grpc.Core;
using Kubesharp.Api.Core.V1;
using Kubesharp.Kubelet.Devices.PodResources.V1;

namespace Kubesharp.Kubelet.Devices;

/// <summary>
/// The pod resources API (v1 PodResourcesLister) on its own unix socket: the node's pods with the devices each
/// container holds, and the node's allocatable devices, so monitoring agents can map devices to pods.
/// </summary>
internal sealed class PodResourcesServer : IAsyncDisposable
{
    public const string SocketName = "kubelet.sock";

    private readonly UnixGrpcServer server;

    private PodResourcesServer(UnixGrpcServer server) => this.server = server;

    public string SocketPath => server.SocketPath;

    /// <param name="pods">The pods bound to this node, as the agent last saw them.</param>
    public static async Task<PodResourcesServer> StartAsync(string socketPath, DeviceRegistry registry, Func<IEnumerable<Pod>> pods, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(pods);
        var services = new GrpcServiceSet().Add(new PodResourcesService(registry, pods));
        return new PodResourcesServer(await UnixGrpcServer.StartAsync(socketPath, services, cancellationToken));
    }

    public ValueTask DisposeAsync() => server.DisposeAsync();

    private static PodResources.V1.PodResources Describe(Pod pod, DeviceRegistry registry)
    {
        var held = registry.AssignmentsOf(pod.Metadata!.Uid!);
        var result = new PodResources.V1.PodResources { Name = pod.Metadata.Name ?? "", Namespace = pod.Metadata.Namespace ?? "" };
        foreach (var container in (pod.Spec?.InitContainers ?? []).Concat(pod.Spec?.Containers ?? []))
        {
            var resources = new ContainerResources { Name = container.Name ?? "" };
            foreach (var assignment in held.Where(a => a.ContainerName == container.Name))
            {
                resources.Devices.Add(new ContainerDevices { ResourceName = assignment.ResourceName, DeviceIds = { assignment.DeviceIds } });
            }

            result.Containers.Add(resources);
        }

        return result;
    }

    private static TopologyInfo? Topology(V1Beta1.TopologyInfo? topology)
    {
        if (topology is null)
        {
            return null;
        }

        var result = new TopologyInfo();
        result.Nodes.AddRange(topology.Nodes.Select(n => new NUMANode { ID = n.ID }));
        return result;
    }

    private sealed class PodResourcesService(DeviceRegistry registry, Func<IEnumerable<Pod>> pods) : PodResourcesLister.PodResourcesListerBase
    {
        public override Task<ListPodResourcesResponse> List(ListPodResourcesRequest request, ServerCallContext context)
        {
            var response = new ListPodResourcesResponse();
            foreach (var pod in pods().Where(p => p.Status?.Phase is not ("Succeeded" or "Failed")).OrderBy(p => p.Metadata?.Namespace, StringComparer.Ordinal).ThenBy(p => p.Metadata?.Name, StringComparer.Ordinal))
            {
                response.PodResources.Add(Describe(pod, registry));
            }

            return Task.FromResult(response);
        }

        public override Task<GetPodResourcesResponse> Get(GetPodResourcesRequest request, ServerCallContext context)
        {
            var pod = pods().FirstOrDefault(p => p.Metadata?.Namespace == request.PodNamespace && p.Metadata?.Name == request.PodName)
                ?? throw new RpcException(new Status(StatusCode.NotFound, $"pod {request.PodName} not found in {request.PodNamespace}"));
            return Task.FromResult(new GetPodResourcesResponse { PodResources = Describe(pod, registry) });
        }

        public override Task<AllocatableResourcesResponse> GetAllocatableResources(AllocatableResourcesRequest request, ServerCallContext context)
        {
            var response = new AllocatableResourcesResponse();
            foreach (var (resource, devices) in registry.HealthyDevices().OrderBy(r => r.Key, StringComparer.Ordinal))
            {
                // One entry per device keeps each device's NUMA affinity, as upstream reports it.
                foreach (var device in devices)
                {
                    response.Devices.Add(new ContainerDevices { ResourceName = resource, DeviceIds = { device.ID }, Topology = Topology(device.Topology) });
                }
            }

            return Task.FromResult(response);
        }
    }
}
