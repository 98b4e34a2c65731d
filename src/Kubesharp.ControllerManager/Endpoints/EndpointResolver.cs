using System.Net;
using System.Net.Sockets;
using Kubesharp.Api.Core.V1;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.Endpoints;

/// <summary>
/// The decision half of the endpoint controllers: which pods back a Service and in what state, as pure
/// functions of the Service and the pods (tested without a server).
/// </summary>
internal static class EndpointResolver
{
    /// <summary>Whether the controllers manage endpoints for this Service at all (a selector and not ExternalName).</summary>
    public static bool Manages(Service service) =>
        service.Spec is { } spec && spec.Type != "ExternalName" && spec.Selector is { Count: > 0 };

    public static bool Selects(Service service, Pod pod) =>
        Manages(service) &&
        pod.Metadata?.Namespace == service.Metadata?.Namespace &&
        service.Spec!.Selector!.All(s => pod.Metadata?.Labels is { } labels && labels.TryGetValue(s.Key, out var v) && v == s.Value);

    /// <summary>The pods of <paramref name="pods"/> that back the Service, one endpoint per address family wanted.</summary>
    public static List<ServiceEndpoint> Resolve(Service service, IEnumerable<Pod> pods, string addressType)
    {
        ArgumentNullException.ThrowIfNull(service);
        var result = new List<ServiceEndpoint>();
        if (!Manages(service))
        {
            return result;
        }

        var publishNotReady = service.Spec!.PublishNotReadyAddresses == true;
        foreach (var pod in pods)
        {
            if (!Selects(service, pod) || pod.Status?.Phase is "Succeeded" or "Failed")
            {
                continue;
            }

            var address = AddressOf(pod, addressType);
            if (address is null)
            {
                continue;
            }

            var terminating = pod.Metadata?.DeletionTimestamp is not null;
            var podReady = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
            var serving = podReady || publishNotReady;
            var ports = ResolvePorts(service, pod);
            result.Add(new ServiceEndpoint(
                address,
                addressType,
                Ready: publishNotReady || (podReady && !terminating),
                Serving: serving,
                Terminating: terminating,
                Hostname: HostnameOf(service, pod),
                NodeName: pod.Spec?.NodeName,
                TargetRef: new ObjectReference { Kind = "Pod", Namespace = pod.Metadata?.Namespace, Name = pod.Metadata?.Name, Uid = pod.Metadata?.Uid },
                Ports: ports));
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Address, b.Address) is var c && c != 0 ? c : string.CompareOrdinal(a.TargetRef.Name, b.TargetRef.Name));
        return result;
    }

    /// <summary>The address type of a Service's primary family.</summary>
    public static string AddressTypeOf(Service service) =>
        service.Spec?.IpFamilies is [var first, ..] && first == "IPv6" ? "IPv6" : "IPv4";

    /// <summary>The ports of a Service for one pod; a named targetPort missing on the pod drops that port.</summary>
    public static List<ResolvedPort> ResolvePorts(Service service, Pod pod)
    {
        var ports = new List<ResolvedPort>();
        foreach (var port in service.Spec?.Ports ?? [])
        {
            var protocol = port.Protocol ?? "TCP";
            int? number;
            if (port.TargetPort is not { } target)
            {
                number = port.Port;
            }
            else if (!target.IsString)
            {
                number = target.IntValue;
            }
            else if (int.TryParse(target.StringValue, out var parsed))
            {
                number = parsed;
            }
            else
            {
                number = FindNamedPort(pod, target.StringValue, protocol);
            }

            if (number is > 0)
            {
                ports.Add(new ResolvedPort(port.Name, protocol, number.Value, port.AppProtocol));
            }
        }

        return ports;
    }

    private static int? FindNamedPort(Pod pod, string name, string protocol)
    {
        foreach (var container in (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []))
        {
            foreach (var port in container.Ports ?? [])
            {
                if (port.Name == name && (port.Protocol ?? "TCP") == protocol)
                {
                    return port.ContainerPortValue;
                }
            }
        }

        return null;
    }

    private static string? AddressOf(Pod pod, string addressType)
    {
        var family = addressType == "IPv6" ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        var candidates = (pod.Status?.PodIPs ?? []).Select(p => p.Ip).Prepend(pod.Status?.PodIP);
        foreach (var candidate in candidates)
        {
            if (candidate is { Length: > 0 } && IPAddress.TryParse(candidate, out var ip) && ip.AddressFamily == family)
            {
                return ip.ToString();
            }
        }

        return null;
    }

    /// <summary>Pods with hostname and a subdomain equal to the Service name get per-pod DNS names.</summary>
    private static string? HostnameOf(Service service, Pod pod) =>
        pod.Spec?.Subdomain is { Length: > 0 } subdomain && subdomain == service.Metadata?.Name && pod.Spec.Hostname is { Length: > 0 } hostname
            ? hostname
            : null;

    /// <summary>Labels a pod had or has, to find Services that selected it before or select it now.</summary>
    public static IEnumerable<Service> ServicesFor(IEnumerable<Service> services, Pod pod) =>
        services.Where(s => Selects(s, pod));

    public static LabelSelectorMatcher SelectorOf(Service service) =>
        LabelSelectorMatcher.FromLabelSelector(new Kubesharp.ApiMachinery.Meta.V1.LabelSelector { MatchLabels = service.Spec?.Selector });
}
