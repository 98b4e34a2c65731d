using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using CoreEndpointPort = Kubesharp.Api.Core.V1.EndpointPort;

namespace Kubesharp.ControllerManager.Endpoints;

/// <summary>
/// The legacy core/v1 Endpoints of a Service: subsets grouped by resolved ports, ready addresses and
/// not-ready ones; terminating pods only when the Service publishes not-ready addresses.
/// </summary>
internal static class EndpointsBuilder
{
    public static global::Kubesharp.Api.Core.V1.Endpoints Build(Service service, IReadOnlyList<ServiceEndpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(service);
        var publishNotReady = service.Spec?.PublishNotReadyAddresses == true;
        var subsets = new List<EndpointSubset>();
        var total = 0;
        var truncated = false;
        foreach (var group in endpoints.Where(e => e.Ports.Count > 0 || service.Spec?.ClusterIP == "None")
                     .GroupBy(e => string.Join(',', e.Ports.Select(p => $"{p.Name}/{p.Protocol}/{p.Port}")), StringComparer.Ordinal)
                     .OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var ready = new List<EndpointAddress>();
            var notReady = new List<EndpointAddress>();
            foreach (var endpoint in group)
            {
                if (endpoint.Terminating && !publishNotReady)
                {
                    continue;
                }

                if (total == EndpointSliceLabels.MaxEndpointsPerEndpoints)
                {
                    truncated = true;
                    break;
                }

                total++;
                var address = new EndpointAddress { Ip = endpoint.Address, Hostname = endpoint.Hostname, NodeName = endpoint.NodeName, TargetRef = endpoint.TargetRef };
                (endpoint.Ready ? ready : notReady).Add(address);
            }

            if (ready.Count + notReady.Count == 0)
            {
                continue;
            }

            var ports = group.First().Ports;
            subsets.Add(new EndpointSubset
            {
                Addresses = ready.Count > 0 ? ready : null,
                NotReadyAddresses = notReady.Count > 0 ? notReady : null,
                Ports = ports.Count > 0 ? [.. ports.Select(p => new CoreEndpointPort { Name = p.Name, Port = p.Port, Protocol = p.Protocol, AppProtocol = p.AppProtocol })] : null,
            });
        }

        var labels = EndpointSlicePlanner.LabelsFor(service);
        labels.Remove(EndpointSliceLabels.ServiceName);
        labels.Remove(EndpointSliceLabels.ManagedBy);
        var annotations = truncated ? new Dictionary<string, string> { [EndpointSliceLabels.EndpointsOverCapacity] = "truncated" } : null;
        return new global::Kubesharp.Api.Core.V1.Endpoints
        {
            ApiVersion = "v1",
            Kind = "Endpoints",
            Metadata = new ObjectMeta { Name = service.Metadata?.Name, Namespace = service.Metadata?.Namespace, Labels = labels, Annotations = annotations },
            Subsets = subsets.Count > 0 ? subsets : null,
        };
    }
}
