using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Proxy.Tests;

internal static class ProxyObjects
{
    public static Service Service(string name, string clusterIp, int port, string protocol = "TCP", string type = "ClusterIP", int? nodePort = null, string affinity = "None") => new()
    {
        Metadata = new ObjectMeta { Namespace = "default", Name = name },
        Spec = new ServiceSpec
        {
            Type = type,
            ClusterIP = clusterIp,
            ClusterIPs = [clusterIp],
            SessionAffinity = affinity,
            Ports = [new ServicePort { Name = "p", Port = port, Protocol = protocol, NodePort = nodePort }],
        },
    };

    public static EndpointSlice Slice(string service, int port, string protocol = "TCP", params (string Ip, bool Ready)[] endpoints) => new()
    {
        Metadata = new ObjectMeta { Namespace = "default", Name = service + "-x", Labels = new() { ["kubernetes.io/service-name"] = service } },
        AddressType = "IPv4",
        Ports = [new Kubesharp.Api.Discovery.V1.EndpointPort { Name = "p", Port = port, Protocol = protocol }],
        Endpoints = [.. endpoints.Select(e => new Endpoint { Addresses = [e.Ip], Conditions = new EndpointConditions { Ready = e.Ready, Serving = e.Ready, Terminating = false } })],
    };
}
