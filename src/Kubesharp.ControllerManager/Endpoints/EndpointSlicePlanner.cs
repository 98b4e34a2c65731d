using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;
using DiscoveryEndpointPort = Kubesharp.Api.Discovery.V1.EndpointPort;

namespace Kubesharp.ControllerManager.Endpoints;

/// <summary>
/// Turns a Service's endpoints into EndpointSlices: endpoints with the same resolved ports share slices of
/// at most <see cref="EndpointSliceLabels.MaxEndpointsPerSlice"/>; existing slices are reused where they fit
/// so unchanged slices are not rewritten.
/// </summary>
internal static class EndpointSlicePlanner
{
    public const string HeadlessLabel = "service.kubernetes.io/headless";

    public static EndpointSlicePlan Plan(Service service, IReadOnlyList<ServiceEndpoint> endpoints, IReadOnlyList<EndpointSlice> existing, int maxPerSlice = EndpointSliceLabels.MaxEndpointsPerSlice)
    {
        ArgumentNullException.ThrowIfNull(service);
        var addressType = EndpointResolver.AddressTypeOf(service);
        var desired = new List<EndpointSlice>();
        var groups = endpoints.GroupBy(e => PortsKey(e.Ports), StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var members = group.ToList();
            for (var i = 0; i < members.Count; i += maxPerSlice)
            {
                desired.Add(NewSlice(service, addressType, members[0].Ports, members.Skip(i).Take(maxPerSlice)));
            }
        }

        if (desired.Count == 0)
        {
            // A Service without endpoints still has one empty slice, so consumers can tell "none" from "not yet".
            desired.Add(NewSlice(service, addressType, EndpointResolver.ResolvePorts(service, new Pod()), []));
        }

        var unused = existing.OrderBy(s => s.Metadata?.Name, StringComparer.Ordinal).ToList();
        var create = new List<EndpointSlice>();
        var update = new List<EndpointSlice>();
        foreach (var slice in desired)
        {
            var match = unused.FirstOrDefault(s => SameContent(s, slice))
                ?? unused.FirstOrDefault(s => s.AddressType == slice.AddressType && SamePorts(s, slice))
                ?? unused.FirstOrDefault(s => s.AddressType == slice.AddressType);
            if (match is null)
            {
                create.Add(slice);
                continue;
            }

            unused.Remove(match);
            if (!SameContent(match, slice))
            {
                var changed = ObjectCopy.Clone(match);
                changed.Metadata!.Labels = slice.Metadata!.Labels;
                changed.Metadata.OwnerReferences = slice.Metadata.OwnerReferences;
                changed.Endpoints = slice.Endpoints;
                changed.Ports = slice.Ports;
                update.Add(changed);
            }
        }

        return new EndpointSlicePlan(create, update, unused);
    }

    public static Dictionary<string, string> LabelsFor(Service service)
    {
        var labels = new Dictionary<string, string>(service.Metadata?.Labels ?? [], StringComparer.Ordinal);
        labels.Remove(EndpointSliceLabels.ServiceName);
        labels.Remove(EndpointSliceLabels.ManagedBy);
        labels[EndpointSliceLabels.ServiceName] = service.Metadata?.Name ?? string.Empty;
        labels[EndpointSliceLabels.ManagedBy] = EndpointSliceLabels.ControllerName;
        if (service.Spec?.ClusterIP == "None")
        {
            labels[HeadlessLabel] = string.Empty;
        }
        else
        {
            labels.Remove(HeadlessLabel);
        }

        return labels;
    }

    private static EndpointSlice NewSlice(Service service, string addressType, IReadOnlyList<ResolvedPort> ports, IEnumerable<ServiceEndpoint> endpoints) => new()
    {
        ApiVersion = EndpointSlice.KubeApiVersion,
        Kind = EndpointSlice.KubeKind,
        Metadata = new ObjectMeta
        {
            GenerateName = $"{service.Metadata?.Name}-",
            Namespace = service.Metadata?.Namespace,
            Labels = LabelsFor(service),
            OwnerReferences = [ControllerRef.New("v1", "Service", service.Metadata!)],
        },
        AddressType = addressType,
        Ports = [.. ports.Select(p => new DiscoveryEndpointPort { Name = p.Name ?? string.Empty, Port = p.Port, Protocol = p.Protocol, AppProtocol = p.AppProtocol })],
        Endpoints = [.. endpoints.Select(e => new Endpoint
        {
            Addresses = [e.Address],
            Conditions = new EndpointConditions { Ready = e.Ready, Serving = e.Serving, Terminating = e.Terminating },
            Hostname = e.Hostname,
            NodeName = e.NodeName,
            TargetRef = e.TargetRef,
        })],
    };

    private static string PortsKey(IReadOnlyList<ResolvedPort> ports) =>
        string.Join(',', ports.Select(p => $"{p.Name}/{p.Protocol}/{p.Port}/{p.AppProtocol}"));

    private static bool SamePorts(EndpointSlice a, EndpointSlice b) => ObjectCopy.SemanticEquals(new EndpointSlice { Ports = a.Ports }, new EndpointSlice { Ports = b.Ports });

    private static bool SameContent(EndpointSlice actual, EndpointSlice wanted) =>
        actual.AddressType == wanted.AddressType &&
        ObjectCopy.SemanticEquals(
            new EndpointSlice { Ports = actual.Ports, Endpoints = actual.Endpoints, Metadata = new ObjectMeta { Labels = actual.Metadata?.Labels, OwnerReferences = actual.Metadata?.OwnerReferences } },
            new EndpointSlice { Ports = wanted.Ports, Endpoints = wanted.Endpoints, Metadata = new ObjectMeta { Labels = wanted.Metadata?.Labels, OwnerReferences = wanted.Metadata?.OwnerReferences } });
}
