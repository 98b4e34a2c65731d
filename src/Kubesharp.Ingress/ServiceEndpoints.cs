using System.Net;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;

namespace Kubesharp.Ingress;

/// <summary>
/// The ready endpoints of a Service port, read from the informer caches of Services and EndpointSlices: what both
/// Ingress and HTTPRoute backends forward to.
/// </summary>
internal sealed class ServiceEndpoints
{
    /// <summary>Index of EndpointSlices by <c>namespace/service</c> (their kubernetes.io/service-name label).</summary>
    public const string ServiceIndex = "ingress-service";

    private const string ServiceNameLabel = "kubernetes.io/service-name";

    private readonly Lister<Service> services;
    private readonly Indexer<EndpointSlice> slices;

    public ServiceEndpoints(SharedInformerFactory informers)
    {
        var informer = informers.Informer<EndpointSlice>();
        informer.AddIndexer(ServiceIndex, ServiceKeys);
        services = informers.Lister<Service>();
        slices = informer.Indexer;
    }

    public Service? Service(string ns, string name) => services.Get(ns, name);

    /// <summary>
    /// Destination prefixes (<c>http://10.42.0.7:8080</c>) of the ready endpoints behind the Service port that
    /// <paramref name="port"/> selects; empty when the Service, the port or ready endpoints are missing.
    /// </summary>
    public string[] Destinations(string ns, string serviceName, Func<ServicePort, bool> port)
    {
        var service = services.Get(ns, serviceName);
        var servicePort = service?.Spec?.Ports?.FirstOrDefault(port);
        if (servicePort is null || service!.Spec!.Type == "ExternalName")
        {
            return [];
        }

        var portName = servicePort.Name ?? string.Empty;
        var destinations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var slice in slices.ByIndex(ServiceIndex, ObjectKey.Of(ns, serviceName)))
        {
            if (slice.AddressType is not ("IPv4" or "IPv6") || slice.Ports?.FirstOrDefault(p => (p.Name ?? string.Empty) == portName)?.Port is not { } target)
            {
                continue;
            }

            foreach (var endpoint in slice.Endpoints ?? [])
            {
                // Only the first address counts (the others are the same endpoint); an unset condition means ready.
                if (endpoint.Conditions?.Ready == false || endpoint.Addresses is not [var address, ..] || !IPAddress.TryParse(address, out var ip))
                {
                    continue;
                }

                destinations.Add(ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"http://[{ip}]:{target}" : $"http://{ip}:{target}");
            }
        }

        return [.. destinations];
    }

    private static IEnumerable<string> ServiceKeys(EndpointSlice slice) =>
        slice.Metadata?.Labels?.TryGetValue(ServiceNameLabel, out var service) == true ? [ObjectKey.Of(slice.Metadata.Namespace, service)] : [];
}
