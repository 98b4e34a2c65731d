using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// One match of an HTTPRoute rule (path, headers, query parameters, method), the rule's filters and its backends.
/// A <paramref name="PathPattern"/> makes the path a RegularExpression match (the whole path must match).
/// <paramref name="Timeout"/> bounds a request's forwarding (the rule's <c>timeouts</c>); null: no bound. <paramref name="Order"/> ranks the route and rule among equals: older routes first, then by namespace/name, then
/// the rule's position.
/// </summary>
internal sealed record GatewayRouteRule(
    string Path,
    IngressPathType PathType,
    Regex? PathPattern,
    IReadOnlyList<GatewayValueMatch> Headers,
    IReadOnlyList<GatewayValueMatch> QueryParams,
    string? Method,
    GatewayFilters Filters,
    GatewayBackend Backend,
    TimeSpan? Timeout,
    int Order)
{
    public bool Matches(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Path.Value is { Length: > 0 } value ? value : "/";
        if (PathPattern is not null ? !PathPattern.IsMatch(path) : !IngressPath.Matches(Path, PathType, path))
        {
            return false;
        }

        if (Method is not null && !string.Equals(request.Method, Method, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Header names compare without case; a header sent twice matches by its first value.
        foreach (var header in Headers)
        {
            if (!request.Headers.TryGetValue(header.Name, out var sent) || !header.Matches(sent.FirstOrDefault()))
            {
                return false;
            }
        }

        foreach (var parameter in QueryParams)
        {
            if (!request.Query.TryGetValue(parameter.Name, out var sent) || !parameter.Matches(sent.FirstOrDefault()))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Upstream's precedence among the matches of one hostname: an Exact path, then the longest prefix, then a method,
    /// then the most headers, then the most query parameters, then <see cref="Order"/>. Upstream leaves regular
    /// expressions to implementations: as Envoy Gateway, they rank after Exact and before PathPrefix (the longest
    /// pattern first), so a catch-all prefix does not shadow them.
    /// </summary>
    public static int Precedence(GatewayRouteRule a, GatewayRouteRule b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var kind = Rank(b).CompareTo(Rank(a));
        if (kind != 0)
        {
            return kind;
        }

        var length = b.Path.Length.CompareTo(a.Path.Length);
        if (length != 0)
        {
            return length;
        }

        var method = (b.Method is not null).CompareTo(a.Method is not null);
        if (method != 0)
        {
            return method;
        }

        var headers = b.Headers.Count.CompareTo(a.Headers.Count);
        if (headers != 0)
        {
            return headers;
        }

        var query = b.QueryParams.Count.CompareTo(a.QueryParams.Count);
        return query != 0 ? query : a.Order.CompareTo(b.Order);
    }

    private static int Rank(GatewayRouteRule rule) => rule.PathType == IngressPathType.Exact ? 2 : rule.PathPattern is not null ? 1 : 0;
}
