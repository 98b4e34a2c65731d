using System.Text.Json.Nodes;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// The filters of an HTTPRoute rule or backendRef: header modifiers, a redirect, a URL rewrite, request mirrors. Filters this proxy
/// cannot apply are never skipped: the requests they would have processed are answered 500, and the route's status
/// says why (<see cref="Problems"/>).
/// </summary>
internal sealed class GatewayFilters
{
    public static readonly GatewayFilters None = new();

    public GatewayHeaderFilter? RequestHeaders { get; private init; }

    public GatewayHeaderFilter? ResponseHeaders { get; private init; }

    public GatewayRedirect? Redirect { get; private init; }

    /// <summary>URLRewrite's hostname: the Host header the backend gets.</summary>
    public string? RewriteHostname { get; private init; }

    /// <summary>URLRewrite's path.</summary>
    public GatewayPathModifier? RewritePath { get; private init; }

    /// <summary>RequestMirror filters whose backendRef resolved.</summary>
    public IReadOnlyList<GatewayMirror> Mirrors { get; private init; } = [];

    /// <summary>Whether requests must be answered 500 (a filter that cannot be applied).</summary>
    public bool Broken { get; private init; }

    /// <summary>Conditions (Accepted or ResolvedRefs, False) the route gets for these filters.</summary>
    public IReadOnlyList<GatewayCondition> Problems { get; private init; } = [];

    /// <summary>Whether a request passes through unchanged by the filters.</summary>
    public bool Empty => RequestHeaders is null && ResponseHeaders is null && Redirect is null && RewriteHostname is null && RewritePath is null && Mirrors.Count == 0 && !Broken;

    /// <param name="filters">The filters' JSON.</param>
    /// <param name="pools">The resolved backendRefs of RequestMirror filters (absent or null: unresolved).</param>
    public static GatewayFilters Parse(JsonNode? filters, IReadOnlyDictionary<JsonObject, IngressBackendPool?> pools)
    {
        ArgumentNullException.ThrowIfNull(pools);
        if (filters is not JsonArray { Count: > 0 } list)
        {
            return None;
        }

        GatewayHeaderFilter? requestHeaders = null, responseHeaders = null;
        GatewayRedirect? redirect = null;
        JsonObject? rewrite = null;
        GatewayPathModifier? rewritePath = null;
        var mirrors = new List<GatewayMirror>();
        var problems = new List<GatewayCondition>();
        foreach (var filter in list.OfType<JsonObject>())
        {
            string? error = null;
            switch ((string?)filter["type"])
            {
                case "RequestHeaderModifier":
                    requestHeaders = Then(requestHeaders, GatewayHeaderFilter.Parse(filter["requestHeaderModifier"] as JsonObject));
                    break;
                case "ResponseHeaderModifier":
                    responseHeaders = Then(responseHeaders, GatewayHeaderFilter.Parse(filter["responseHeaderModifier"] as JsonObject));
                    break;
                case "RequestRedirect":
                    redirect = GatewayRedirect.Parse(filter["requestRedirect"] as JsonObject, out error);
                    break;
                case "URLRewrite":
                    rewrite = filter["urlRewrite"] as JsonObject ?? [];
                    if (rewrite["path"] is JsonObject pathSpec)
                    {
                        rewritePath = GatewayPathModifier.Parse(pathSpec, out error);
                    }

                    break;
                case "RequestMirror":
                    var mirrorRef = GatewayMirror.Reference(filter);
                    if (GatewayMirror.Parse(filter["requestMirror"] as JsonObject, mirrorRef is null ? null : pools.GetValueOrDefault(mirrorRef), out error) is { } mirror)
                    {
                        mirrors.Add(mirror);
                    }

                    break;
                case "ExtensionRef":
                    // No extension kinds are known to this proxy: the reference cannot be resolved.
                    problems.Add(new("ResolvedRefs", false, "InvalidKind", $"extensionRef {(string?)filter["extensionRef"]?["group"]}/{(string?)filter["extensionRef"]?["kind"]} {(string?)filter["extensionRef"]?["name"]} is not a kind this controller knows"));
                    break;
                default:
                    error = $"filter type {(string?)filter["type"]} is not supported";
                    break;
            }

            if (error is not null)
            {
                problems.Add(new("Accepted", false, "UnsupportedValue", error));
            }
        }

        if (redirect is not null && rewrite is not null)
        {
            problems.Add(new("Accepted", false, "IncompatibleFilters", "RequestRedirect and URLRewrite cannot be used together"));
        }

        return new GatewayFilters
        {
            RequestHeaders = requestHeaders,
            ResponseHeaders = responseHeaders,
            Redirect = redirect,
            RewriteHostname = (string?)rewrite?["hostname"],
            RewritePath = rewritePath,
            Mirrors = mirrors,
            Broken = problems.Count > 0,
            Problems = problems,
        };
    }

    /// <summary>These filters (a rule's), then <paramref name="next"/> (one of its backendRefs').</summary>
    public GatewayFilters Then(GatewayFilters next)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (next.Empty)
        {
            return this;
        }

        if (Empty)
        {
            return next;
        }

        var incompatible = (Redirect ?? next.Redirect) is not null && (RewriteHostname ?? next.RewriteHostname ?? (object?)RewritePath ?? next.RewritePath) is not null;
        return new GatewayFilters
        {
            RequestHeaders = Then(RequestHeaders, next.RequestHeaders),
            ResponseHeaders = Then(ResponseHeaders, next.ResponseHeaders),
            Redirect = next.Redirect ?? Redirect,
            RewriteHostname = next.RewriteHostname ?? RewriteHostname,
            RewritePath = next.RewritePath ?? RewritePath,
            Mirrors = [.. Mirrors, .. next.Mirrors],
            Broken = Broken || next.Broken || incompatible,
            Problems = [.. Problems, .. next.Problems, .. incompatible ? [new GatewayCondition("Accepted", false, "IncompatibleFilters", "RequestRedirect and URLRewrite cannot be used together")] : Array.Empty<GatewayCondition>()],
        };
    }

    /// <summary>Whether a path modifier needs the prefix of a PathPrefix match.</summary>
    public bool ReplacesPrefix => (Redirect?.Path?.ReplacesPrefix ?? false) || (RewritePath?.ReplacesPrefix ?? false);

    private static GatewayHeaderFilter? Then(GatewayHeaderFilter? first, GatewayHeaderFilter? next) => first is null ? next : first.Then(next);
}
