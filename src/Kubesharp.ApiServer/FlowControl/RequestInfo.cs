using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.FlowControl;

/// <summary>
/// What a request asks for, in the terms FlowSchema rules speak: verb, API group, resource (with subresource),
/// namespace and name for resource requests, the path for the rest. Resolved from the URL alone, as upstream's
/// request info is, so classification needs no routing.
/// </summary>
internal sealed record RequestInfo(
    bool IsResourceRequest,
    string Verb,
    string Path,
    string ApiGroup = "",
    string Resource = "",
    string Subresource = "",
    string Namespace = "",
    string Name = "")
{
    /// <summary>Subresources that stream for as long as the client wants (upstream's long-running check).</summary>
    private static readonly HashSet<string> LongRunningSubresources = new(StringComparer.Ordinal) { "attach", "exec", "proxy", "log", "portforward" };

    /// <summary>The resource as rules name it: "pods" or "pods/log".</summary>
    public string QualifiedResource => Subresource.Length == 0 ? Resource : $"{Resource}/{Subresource}";

    public bool IsWatch => Verb == "watch";

    /// <summary>Watches, proxies and streaming subresources: they hold no seat beyond their start.</summary>
    public bool IsLongRunning => Verb is "watch" or "proxy" || LongRunningSubresources.Contains(Subresource);

    public static RequestInfo Resolve(HttpRequest request, string path)
    {
        var method = request.Method.ToUpperInvariant();
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        int start;
        var group = string.Empty;
        if (segments.Length >= 2 && segments[0] == "api")
        {
            start = 2;
        }
        else if (segments.Length >= 3 && segments[0] == "apis")
        {
            group = segments[1];
            start = 3;
        }
        else
        {
            return new RequestInfo(false, method.ToLowerInvariant(), path);
        }

        var rest = segments.AsSpan(start);
        if (rest.Length == 0)
        {
            // Discovery of one group version is a non-resource request, as upstream counts it.
            return new RequestInfo(false, method.ToLowerInvariant(), path);
        }

        var legacyWatch = false;
        if (rest[0] is "watch" or "proxy")
        {
            legacyWatch = rest[0] == "watch";
            rest = rest[1..];
        }

        var @namespace = string.Empty;
        if (rest.Length >= 2 && rest[0] == "namespaces")
        {
            @namespace = rest[1];
            // namespaces/NAME/status and /finalize are the namespace's own subresources.
            if (rest.Length > 2 && rest[2] is not ("status" or "finalize"))
            {
                rest = rest[2..];
            }
        }

        var resource = rest.Length > 0 ? rest[0] : string.Empty;
        var name = rest.Length > 1 ? rest[1] : string.Empty;
        var subresource = rest.Length > 2 ? string.Join('/', rest[2..].ToArray()) : string.Empty;
        if (subresource.Contains('/', StringComparison.Ordinal))
        {
            // pods/NAME/proxy/some/path: the rest of the path belongs to the proxied server.
            subresource = subresource[..subresource.IndexOf('/', StringComparison.Ordinal)];
        }

        if (subresource == History.HistoryEndpoint.Subresource && name.Length > 0)
        {
            // An object's history is read with the same permission as the object itself.
            subresource = string.Empty;
        }

        var watch = legacyWatch || IsTrue(request.Query["watch"]);
        var verb = method switch
        {
            "GET" or "HEAD" when watch => "watch",
            "GET" or "HEAD" when name.Length == 0 => "list",
            "GET" or "HEAD" => "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" when name.Length == 0 => "deletecollection",
            "DELETE" => "delete",
            _ => method.ToLowerInvariant(),
        };
        if (verb is "list" or "watch" && name.Length == 0 && NameFromFieldSelector(request.Query["fieldSelector"]) is { } selected)
        {
            // A list or watch of one object by metadata.name is authorized as that object (resourceNames rules apply).
            name = selected;
        }

        if (segments.Length > start && segments[start] == "proxy")
        {
            verb = "proxy";
        }

        return new RequestInfo(true, verb, path, group, resource, subresource, @namespace, name);
    }

    private static string? NameFromFieldSelector(Microsoft.Extensions.Primitives.StringValues value)
    {
        if (value.Count == 0 || value[0] is not { Length: > 0 } selector)
        {
            return null;
        }

        foreach (var requirement in selector.Split(','))
        {
            var parts = requirement.Split('=', 2);
            if (parts.Length == 2 && parts[0] == "metadata.name" && !parts[1].StartsWith('='))
            {
                return parts[1];
            }
        }

        return null;
    }

    private static bool IsTrue(Microsoft.Extensions.Primitives.StringValues value) =>
        value.Count > 0 && (value[0] is "true" or "1" or "True");
}
