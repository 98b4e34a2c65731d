using Microsoft.AspNetCore.Http;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// The compiled matches of the routes attached to the listeners of one protocol: per exact hostname, per wildcard
/// hostname and for routes without one, each in precedence order.
/// </summary>
internal sealed class GatewayHostTable
{
    public static readonly GatewayHostTable Empty = new(new Dictionary<string, GatewayRouteRule[]>(StringComparer.Ordinal), [], []);

    private readonly Dictionary<string, GatewayRouteRule[]> hosts;
    private readonly KeyValuePair<string, GatewayRouteRule[]>[] wildcards;
    private readonly GatewayRouteRule[] anyHost;

    /// <param name="hosts">Matches of each exact hostname.</param>
    /// <param name="wildcards">Matches of each wildcard hostname, keyed by the suffix after the '*' (<c>.example.com</c>), longest first.</param>
    /// <param name="anyHost">Matches of routes attached without a hostname.</param>
    public GatewayHostTable(Dictionary<string, GatewayRouteRule[]> hosts, KeyValuePair<string, GatewayRouteRule[]>[] wildcards, GatewayRouteRule[] anyHost)
    {
        this.hosts = hosts;
        this.wildcards = wildcards;
        this.anyHost = anyHost;
    }

    /// <summary>
    /// The rule for a request: among the routes of the most specific hostname that matches (exact, then the
    /// longest wildcard, then none), the first match in precedence order; null when no route matches.
    /// </summary>
    public GatewayRouteRule? Match(HttpRequest request)
    {
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
