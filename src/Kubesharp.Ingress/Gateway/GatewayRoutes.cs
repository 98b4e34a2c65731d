using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// An immutable snapshot of the attached HTTPRoutes (matches per hostname, in precedence order) and of the
/// certificates of the HTTPS listeners. Built on every change and swapped in whole, as <see cref="IngressRoutes"/>.
/// </summary>
internal sealed class GatewayRoutes
{
    public static readonly GatewayRoutes Empty = new(
        new Dictionary<string, GatewayRouteRule[]>(StringComparer.Ordinal), [], [],
        new Dictionary<string, X509Certificate2>(StringComparer.Ordinal), null);

    private readonly Dictionary<string, GatewayRouteRule[]> hosts;
    private readonly KeyValuePair<string, GatewayRouteRule[]>[] wildcards;
    private readonly GatewayRouteRule[] anyHost;
    private readonly Dictionary<string, X509Certificate2> certificates;
    private readonly X509Certificate2? defaultCertificate;

    /// <param name="hosts">Matches of each exact hostname.</param>
    /// <param name="wildcards">Matches of each wildcard hostname, keyed by the suffix after the '*' (<c>.example.com</c>), longest first.</param>
    /// <param name="anyHost">Matches of routes attached without a hostname.</param>
    /// <param name="certificates">Certificate per HTTPS listener hostname (wildcards as written, <c>*.example.com</c>).</param>
    /// <param name="defaultCertificate">The certificate of an HTTPS listener without a hostname.</param>
    public GatewayRoutes(
        Dictionary<string, GatewayRouteRule[]> hosts, KeyValuePair<string, GatewayRouteRule[]>[] wildcards, GatewayRouteRule[] anyHost,
        Dictionary<string, X509Certificate2> certificates, X509Certificate2? defaultCertificate)
    {
        this.hosts = hosts;
        this.wildcards = wildcards;
        this.anyHost = anyHost;
        this.certificates = certificates;
        this.defaultCertificate = defaultCertificate;
    }

    /// <summary>
    /// The rule for a request: among the routes of the most specific hostname that matches (exact, then the
    /// longest wildcard, then none), the first match in precedence order; null when no route matches.
    /// </summary>
    public GatewayRouteRule? Match(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var host = request.Host.Host.ToLowerInvariant();
        if (hosts.TryGetValue(host, out var exact) && First(exact, request) is { } byHost)
        {
            return byHost;
        }

        // A wildcard stands for one or more labels.
        foreach (var (suffix, rules) in wildcards)
        {
            if (host.Length > suffix.Length && host.EndsWith(suffix, StringComparison.Ordinal) && First(rules, request) is { } byWildcard)
            {
                return byWildcard;
            }
        }

        return First(anyHost, request);
    }

    /// <summary>The certificate of the HTTPS listener for an SNI name: exact hostname, then the longest wildcard, then a listener without one.</summary>
    public X509Certificate2? Certificate(string? serverName)
    {
        if (serverName is { Length: > 0 })
        {
            var name = serverName.ToLowerInvariant();
            if (certificates.TryGetValue(name, out var exact))
            {
                return exact;
            }

            for (var dot = name.IndexOf('.', StringComparison.Ordinal); dot > 0; dot = name.IndexOf('.', dot + 1))
            {
                if (certificates.TryGetValue("*" + name[dot..], out var wild))
                {
                    return wild;
                }
            }
        }

        return defaultCertificate;
    }

    private static GatewayRouteRule? First(GatewayRouteRule[] rules, HttpRequest request)
    {
        foreach (var rule in rules)
        {
            if (rule.Matches(request))
            {
                return rule;
            }
        }

        return null;
    }
}
