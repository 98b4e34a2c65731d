using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;

namespace Kubesharp.Proxy;

/// <summary>Builds the proxy's view (service ports with their endpoints) from Services and EndpointSlices.</summary>
public static class ServiceProxyModel
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";

    /// <summary>Names the proxy that serves a Service; proxies serve only Services naming them, or none.</summary>
    public const string ServiceProxyNameLabel = "service.kubernetes.io/service-proxy-name";

    /// <summary>Whether a proxy called <paramref name="proxyName"/> (null: the default proxy) serves the Service.</summary>
    public static bool HandledBy(Service service, string? proxyName)
    {
        ArgumentNullException.ThrowIfNull(service);
        var named = service.Metadata?.Labels?.GetValueOrDefault(ServiceProxyNameLabel);
        return string.IsNullOrEmpty(named) ? proxyName is null : named == proxyName;
    }

    public static List<ServicePortRule> Build(IEnumerable<Service> services, IEnumerable<EndpointSlice> slices)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(slices);
        var byService = slices
            .Where(s => s.Metadata?.Labels?.ContainsKey(ServiceNameLabel) == true && s.AddressType is null or "IPv4")
            .GroupBy(s => $"{s.Metadata!.Namespace}/{s.Metadata.Labels![ServiceNameLabel]}", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var rules = new List<ServicePortRule>();
        foreach (var service in services)
        {
            var spec = service.Spec;
            if (spec is null || spec.Type == "ExternalName" || spec.ClusterIP is null or "" or "None")
            {
                continue;
            }

            var clusterIps = (spec.ClusterIPs is { Count: > 0 } ips ? ips : [spec.ClusterIP]).Where(ip => !ip.Contains(':', StringComparison.Ordinal)).ToList();
            var external = (spec.ExternalIPs ?? []).Concat((service.Status?.LoadBalancer?.Ingress ?? []).Select(i => i.Ip).OfType<string>()).Distinct().ToList();
            int? affinity = spec.SessionAffinity == "ClientIP" ? spec.SessionAffinityConfig?.ClientIP?.TimeoutSeconds ?? 10800 : null;
            var key = $"{service.Metadata?.Namespace}/{service.Metadata?.Name}";
            var serviceSlices = byService.GetValueOrDefault(key) ?? [];
            foreach (var port in spec.Ports ?? [])
            {
                var protocol = port.Protocol ?? "TCP";
                var endpoints = new List<ServiceProxyEndpoint>();
                foreach (var slice in serviceSlices)
                {
                    var slicePort = slice.Ports?.FirstOrDefault(p => (p.Name ?? string.Empty) == (port.Name ?? string.Empty) && (p.Protocol ?? "TCP") == protocol);
                    if (slicePort?.Port is not { } number)
                    {
                        continue;
                    }

                    foreach (var endpoint in slice.Endpoints ?? [])
                    {
                        var conditions = endpoint.Conditions;
                        foreach (var address in endpoint.Addresses ?? [])
                        {
                            endpoints.Add(new ServiceProxyEndpoint(address, number, conditions?.Ready ?? true, conditions?.Serving ?? conditions?.Ready ?? true, conditions?.Terminating ?? false));
                        }
                    }
                }

                endpoints = [.. endpoints.DistinctBy(e => (e.Address, e.Port)).OrderBy(e => e.Address, StringComparer.Ordinal).ThenBy(e => e.Port)];
                rules.Add(new ServicePortRule(
                    service.Metadata?.Namespace ?? string.Empty,
                    service.Metadata?.Name ?? string.Empty,
                    port.Name ?? string.Empty,
                    protocol,
                    clusterIps,
                    port.Port ?? 0,
                    spec.Type is "NodePort" or "LoadBalancer" ? port.NodePort : null,
                    external,
                    affinity,
                    endpoints));
            }
        }

        return [.. rules.OrderBy(r => r.Key, StringComparer.Ordinal).ThenBy(r => r.Protocol, StringComparer.Ordinal)];
    }
}
