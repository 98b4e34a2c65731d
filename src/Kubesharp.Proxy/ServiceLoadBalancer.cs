using Kubesharp.Api.Core.V1;

namespace Kubesharp.Proxy;

/// <summary>
/// LoadBalancer Services served on the nodes' own addresses (as k3s's ServiceLB): the ingress of such a
/// Service is the InternalIP (else ExternalIP) of every ready node, and the proxy accepts the Service port there.
/// </summary>
public static class ServiceLoadBalancer
{
    /// <summary>The ingress a LoadBalancer Service should report, or null for other Service types.</summary>
    public static List<LoadBalancerIngress>? DesiredIngress(Service service, IEnumerable<Node> nodes)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(nodes);
        if (service.Spec?.Type != "LoadBalancer" || service.Spec.LoadBalancerClass is { Length: > 0 })
        {
            return null;
        }

        var addresses = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            var ready = node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
            if (!ready || node.Spec?.Unschedulable == true)
            {
                continue;
            }

            var address = node.Status?.Addresses?.FirstOrDefault(a => a.Type == "ExternalIP")?.Address
                ?? node.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address;
            if (address is { Length: > 0 })
            {
                addresses.Add(address);
            }
        }

        return [.. addresses.Select(a => new LoadBalancerIngress { Ip = a, IpMode = "VIP" })];
    }

    /// <summary>Whether the Service's reported ingress already equals <paramref name="desired"/>.</summary>
    public static bool IngressEquals(Service service, IReadOnlyList<LoadBalancerIngress> desired)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(desired);
        var current = service.Status?.LoadBalancer?.Ingress ?? [];
        return current.Select(i => i.Ip).SequenceEqual(desired.Select(i => i.Ip), StringComparer.Ordinal);
    }
}
