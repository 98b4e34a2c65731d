using Microsoft.AspNetCore.Http;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// One match of an HTTPRoute rule (path, headers, query parameters, method) and the backends of its rule.
/// <paramref name="Order"/> ranks the route and rule among equals: older routes first, then by namespace/name, then
/// the rule's position.
/// </summary>
internal sealed record GatewayRouteRule(
    string Path,
    IngressPathType PathType,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    IReadOnlyList<KeyValuePair<string, string>> QueryParams,
    string? Method,
    GatewayBackend Backend,
    int Order)
{
    public bool Matches(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!IngressPath.Matches(Path, PathType, request.Path.Value is { Length: > 0 } path ? path : "/"))
        {
            return false;
        }

        if (Method is not null && !string.Equals(request.Method, Method, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Header names compare without case, values exactly; a header sent twice matches by its first value.
        foreach (var (name, value) in Headers)
        {
            if (!request.Headers.TryGetValue(name, out var sent) || !string.Equals(sent.FirstOrDefault(), value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        foreach (var (name, value) in QueryParams)
        {
            if (!request.Query.TryGetValue(name, out var sent) || !string.Equals(sent.FirstOrDefault(), value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Upstream's precedence among the matches of one hostname: an Exact path, then the longest path, then a method,
    /// then the most headers, then the most query parameters, then <see cref="Order"/>.
    /// </summary>
    public static int Precedence(GatewayRouteRule a, GatewayRouteRule b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var exact = (b.PathType == IngressPathType.Exact).CompareTo(a.PathType == IngressPathType.Exact);
        if (exact != 0)
        {
            return exact;
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
}
