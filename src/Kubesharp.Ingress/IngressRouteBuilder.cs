using System.Security.Cryptography.X509Certificates;
using Kubesharp.Api.Core.V1;
using Kubesharp.Client.Informers;
using NetworkingV1 = Kubesharp.Api.Networking.V1;

namespace Kubesharp.Ingress;

/// <summary>
/// Builds <see cref="IngressRoutes"/> from the served Ingresses and the Services, EndpointSlices and Secrets they
/// name, all read from informer caches. Ingresses are taken oldest first, so when two claim the same host and path
/// the older keeps it.
/// </summary>
internal sealed class IngressRouteBuilder(ServiceEndpoints endpoints, Lister<Secret> secrets, IngressCertificateCache certificates)
{
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

    private X509Certificate2? Certificate(string ns, string secretName) =>
        secrets.Get(ns, secretName) is { } secret ? certificates.Get(secret) : null;

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
            var port = serviceBackend.Port;
            pools[key] = pool = new IngressBackendPool(key, endpoints.Destinations(ns, serviceName, p => port?.Number is { } n ? p.Port == n : p.Name == port?.Name));
        }

        return pool;
    }
}
