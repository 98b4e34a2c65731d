using System.Security.Cryptography.X509Certificates;

namespace Kubesharp.Ingress;

/// <summary>
/// An immutable snapshot of everything the served Ingresses say: paths per host, the default backend and the
/// certificates per TLS host. The controller builds a new one on every change and swaps it in whole, so a request
/// sees one consistent configuration and the listeners never restart.
/// </summary>
internal sealed class IngressRoutes
{
    public static readonly IngressRoutes Empty = new(
        new Dictionary<string, IngressPath[]>(StringComparer.Ordinal), new Dictionary<string, IngressPath[]>(StringComparer.Ordinal), [], null,
        new Dictionary<string, X509Certificate2>(StringComparer.Ordinal), null);

    private readonly Dictionary<string, IngressPath[]> hosts;
    private readonly Dictionary<string, IngressPath[]> wildcards;
    private readonly IngressPath[] anyHost;
    private readonly Dictionary<string, X509Certificate2> certificates;

    /// <param name="hosts">Paths of each exact host, in precedence order.</param>
    /// <param name="wildcards">Paths of each wildcard host, keyed by the suffix after the '*' (<c>.example.com</c>).</param>
    /// <param name="anyHost">Paths of rules without a host.</param>
    /// <param name="defaultBackend">Where requests no rule matches go (null: 404).</param>
    /// <param name="certificates">Certificate per TLS host (wildcards keyed as written, <c>*.example.com</c>).</param>
    /// <param name="defaultCertificate">The certificate of a TLS entry without hosts, for names no other entry covers.</param>
    public IngressRoutes(
        Dictionary<string, IngressPath[]> hosts, Dictionary<string, IngressPath[]> wildcards, IngressPath[] anyHost, IngressBackendPool? defaultBackend,
        Dictionary<string, X509Certificate2> certificates, X509Certificate2? defaultCertificate)
    {
        this.hosts = hosts;
        this.wildcards = wildcards;
        this.anyHost = anyHost;
        this.certificates = certificates;
        DefaultBackend = defaultBackend;
        DefaultCertificate = defaultCertificate;
    }

    public IngressBackendPool? DefaultBackend { get; }

    public X509Certificate2? DefaultCertificate { get; }

    /// <summary>
    /// The backend for a request: the exact host's paths, then a wildcard host's (one label deep, as upstream
    /// defines them), then rules without a host, then the default backend; null when nothing matches (404).
    /// </summary>
    public IngressBackendPool? Match(string host, string path)
    {
        host = host.ToLowerInvariant();
        if (path.Length == 0)
        {
            path = "/";
        }

        if (hosts.TryGetValue(host, out var exact) && First(exact, path) is { } byHost)
        {
            return byHost;
        }

        var dot = host.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0 && wildcards.TryGetValue(host[dot..], out var wild) && First(wild, path) is { } byWildcard)
        {
            return byWildcard;
        }

        return First(anyHost, path) ?? DefaultBackend;
    }

    /// <summary>The certificate for an SNI name: the exact host's, then the wildcard's, then the default.</summary>
    public X509Certificate2? Certificate(string? serverName)
    {
        if (serverName is { Length: > 0 })
        {
            var name = serverName.ToLowerInvariant();
            if (certificates.TryGetValue(name, out var exact))
            {
                return exact;
            }

            var dot = name.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && certificates.TryGetValue("*" + name[dot..], out var wild))
            {
                return wild;
            }
        }

        return DefaultCertificate;
    }

    private static IngressBackendPool? First(IngressPath[] paths, string path)
    {
        foreach (var candidate in paths)
        {
            if (candidate.Matches(path))
            {
                return candidate.Backend;
            }
        }

        return null;
    }
}
