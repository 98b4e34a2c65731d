using System.Net;
using System.Security.Cryptography.X509Certificates;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using NetworkingV1 = Kubesharp.Api.Networking.V1;

namespace Kubesharp.Ingress;

/// <summary>
/// Builds <see cref="IngressRoutes"/> from the served Ingresses and the Services, EndpointSlices and Secrets they
/// name, all read from informer caches. Ingresses are taken oldest first, so when two claim the same host and path
/// the older keeps it.
/// </summary>
internal sealed class IngressRouteBuilder(Lister<Service> services, Indexer<EndpointSlice> slices, Lister<Secret> secrets, IngressCertificateCache certificates)
{
    /// <summary>Index of EndpointSlices by <c>namespace/service</c> (their kubernetes.io/service-name label).</summary>
    public const string ServiceIndex = "ingress-service";

    private const string ServiceNameLabel = "kubernetes.io/service-name";

    public static IEnumerable<string> ServiceKeys(EndpointSlice slice) =>
        slice.Metadata?.Labels?.TryGetValue(ServiceNameLabel, out var service) == true ? [ObjectKey.Of(slice.Metadata.Namespace, service)] : [];

    public IngressRoutes Build(IEnumerable<NetworkingV1.Ingress> served)
    {
        var pools = new Dictionary<string, IngressBackendPool>(StringComparer.Ordinal);
        var hosts = new Dictionary<string, List<IngressPath>>(StringComparer.Ordinal);
        var wildcards = new Dictionary<string, List<IngressPath>>(StringComparer.Ordinal);
        var anyHost = new List<IngressPath>();
        var certificatesByHost = new Dictionary<string, X509Certificate2>(StringComparer.Ordinal);
        X509Certificate2? defaultCertificate = null;
        IngressBackendPool? defaultBackend = null;
        var ordered = served
            .OrderBy(i => i.Metadata?.CreationTimestamp ?? DateTimeOffset.MinValue)
            .ThenBy(i => i.Metadata?.Namespace, StringComparer.Ordinal)
            .ThenBy(i => i.Metadata?.Name, StringComparer.Ordinal);
        foreach (var ingress in ordered)
        {
            var ns = ingress.Metadata?.Namespace ?? string.Empty;
            if (ingress.Spec?.DefaultBackend is { } fallback && defaultBackend is null)
            {
                defaultBackend = Pool(ns, fallback, pools);
            }

            foreach (var rule in ingress.Spec?.Rules ?? [])
            {
                var host = rule.Host?.ToLowerInvariant() ?? string.Empty;
                var target = host.Length == 0 ? anyHost
                    : host.StartsWith("*.", StringComparison.Ordinal) ? Bucket(wildcards, host[1..])
                    : Bucket(hosts, host);
                foreach (var path in rule.Http?.Paths ?? [])
                {
                    var type = path.PathType == "Exact" ? IngressPathType.Exact : IngressPathType.Prefix;
                    var text = string.IsNullOrEmpty(path.Path) ? "/" : path.Path;
                    if (path.Backend is null || target.Any(p => p.Type == type && p.Path == text))
                    {
                        continue;
                    }

                    target.Add(new IngressPath(text, type, Pool(ns, path.Backend, pools)));
                }
            }

            foreach (var tls in ingress.Spec?.Tls ?? [])
            {
                if (tls.SecretName is not { Length: > 0 } secretName || Certificate(ns, secretName) is not { } certificate)
                {
                    continue;
                }

                if (tls.Hosts is not { Count: > 0 })
                {
                    defaultCertificate ??= certificate;
                }

                foreach (var host in tls.Hosts ?? [])
                {
                    certificatesByHost.TryAdd(host.ToLowerInvariant(), certificate);
                }
            }
        }

        return new IngressRoutes(Sorted(hosts), Sorted(wildcards), [.. anyHost.Order(Comparer<IngressPath>.Create(IngressPath.Precedence))], defaultBackend, certificatesByHost, defaultCertificate);
    }

    private static List<IngressPath> Bucket(Dictionary<string, List<IngressPath>> buckets, string key)
    {
        if (!buckets.TryGetValue(key, out var list))
        {
            buckets[key] = list = [];
        }

        return list;
    }

    private static Dictionary<string, IngressPath[]> Sorted(Dictionary<string, List<IngressPath>> buckets) =>
        buckets.ToDictionary(b => b.Key, b => b.Value.Order(Comparer<IngressPath>.Create(IngressPath.Precedence)).ToArray(), StringComparer.Ordinal);

    private X509Certificate2? Certificate(string ns, string secretName)
    {
        var secret = secrets.Get(ns, secretName);
        return secret?.Data is { } data && data.TryGetValue("tls.crt", out var crt) && data.TryGetValue("tls.key", out var key)
            ? certificates.Get(ObjectKey.Of(ns, secretName), secret.Metadata?.ResourceVersion ?? string.Empty, crt, key)
            : null;
    }

    private IngressBackendPool Pool(string ns, NetworkingV1.IngressBackend backend, Dictionary<string, IngressBackendPool> pools)
    {
        // Resource backends name objects this controller cannot serve: like a Service without endpoints.
        if (backend.Service is not { Name: { Length: > 0 } serviceName } serviceBackend)
        {
            return new IngressBackendPool(ns + "/<resource>", []);
        }

        var portText = serviceBackend.Port?.Number is { } number ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : serviceBackend.Port?.Name ?? string.Empty;
        var key = $"{ns}/{serviceName}:{portText}";
        if (!pools.TryGetValue(key, out var pool))
        {
            pools[key] = pool = new IngressBackendPool(key, Destinations(ns, serviceName, serviceBackend.Port));
        }

        return pool;
    }

    /// <summary>The ready endpoints of the Service port, as the EndpointSlices of the Service list them.</summary>
    private string[] Destinations(string ns, string serviceName, NetworkingV1.ServiceBackendPort? port)
    {
        var service = services.Get(ns, serviceName);
        var servicePort = service?.Spec?.Ports?.FirstOrDefault(p => port?.Number is { } n ? p.Port == n : p.Name == port?.Name);
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
}
