using System.Diagnostics;
using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Registry;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Metrics;

/// <summary>
/// Counts and times every request as upstream's endpoint metrics do: apiserver_request_total and
/// apiserver_request_duration_seconds when it ends, apiserver_longrunning_requests and
/// apiserver_registered_watchers while a long-running one runs. The request's attributes are those the pipeline
/// resolved (<see cref="Started"/>), so nothing is parsed twice.
/// </summary>
internal sealed class RequestMetrics(ApiServerMetrics metrics, ResourceRegistry registry)
{
    private static readonly HashSet<string> NonResourcePaths = new(StringComparer.Ordinal)
    {
        "/", "/api", "/apis", "/version", "/healthz", "/livez", "/readyz", "/metrics", "/openapi/v2", "/openapi/v3",
        "/.well-known/openid-configuration", "/openid/v1/jwks",
    };

    public ApiServerMetrics Families => metrics;

    /// <summary>Called once the pipeline knows what the request asks for.</summary>
    public void Started(HttpContext context, RequestInfo info)
    {
        context.Features.Set(info);
        if (info.IsResourceRequest && info.IsLongRunning)
        {
            Track(context, info, +1);
        }
    }

    /// <summary>Called when the response is complete (or the client went away).</summary>
    public void Finished(HttpContext context, long startedTimestamp)
    {
        var info = context.Features.Get<RequestInfo>();
        var tracked = info is { IsResourceRequest: true, IsLongRunning: true };
        // Refused before the pipeline resolved it (no credentials, a malformed target): labelled from the URL alone.
        info ??= RequestInfo.Resolve(context.Request, context.Request.Path.Value ?? "/");
        var key = Key(context, info, context.Response.StatusCode);
        var series = metrics.Request(key);
        series.Total.Inc();
        series.Duration.Observe(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);
        // Counted before it leaves the running gauge: a scrape that no longer sees the request running sees it counted.
        if (tracked)
        {
            Track(context, info, -1);
        }
    }

    private void Track(HttpContext context, RequestInfo info, int delta)
    {
        var key = Key(context, info, 0);
        metrics.LongRunning(key).Inc(delta);
        if (info.IsWatch && registry.Find(info.ApiGroup, key.Version, info.Resource) is { } resource)
        {
            metrics.Watchers(resource.Group, resource.Version, resource.Kind).Inc(delta);
        }
    }

    private RequestSeriesKey Key(HttpContext context, RequestInfo info, int code)
    {
        var request = context.Request;
        if (!info.IsResourceRequest)
        {
            return new RequestSeriesKey(MethodVerb(request.Method), string.Empty, string.Empty, string.Empty, string.Empty, NonResourcePath(info.Path), string.Empty, code);
        }

        var version = Version(info.Path);
        var resource = info.Resource;
        var subresource = info.Subresource;
        if (code == StatusCodes.Status404NotFound && registry.Find(info.ApiGroup, version, resource) is null)
        {
            // Unknown resources would let any client mint series.
            resource = "other";
            subresource = string.Empty;
            version = string.Empty;
        }

        var scope = info.Name.Length > 0 && info.Verb is not ("list" or "watch") ? "resource" : info.Namespace.Length > 0 ? "namespace" : "cluster";
        var dryRun = request.Query.TryGetValue("dryRun", out var dry) && dry.Count > 0 ? "All" : string.Empty;
        return new RequestSeriesKey(Verb(request, info), dryRun, info.ApiGroup, version, resource, subresource, scope, code);
    }

    /// <summary>Upstream's metric verbs: HTTP methods for writes, LIST and WATCH for reads, APPLY, CONNECT for streams.</summary>
    private static string Verb(HttpRequest request, RequestInfo info) => info.Verb switch
    {
        _ when info.Subresource is "exec" or "attach" or "portforward" or "proxy" => "CONNECT",
        "proxy" => "CONNECT",
        "get" => "GET",
        "list" => "LIST",
        "watch" => "WATCH",
        "create" => "POST",
        "update" => "PUT",
        "patch" when request.ContentType is { } type && type.StartsWith("application/apply-patch", StringComparison.OrdinalIgnoreCase) => "APPLY",
        "patch" => "PATCH",
        "delete" => "DELETE",
        "deletecollection" => "DELETECOLLECTION",
        _ => "other",
    };

    private static string MethodVerb(string method) => method switch
    {
        "GET" or "HEAD" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        _ => "other",
    };

    private static string NonResourcePath(string path)
    {
        if (NonResourcePaths.TryGetValue(path, out var known))
        {
            return known;
        }

        foreach (var prefix in (ReadOnlySpan<string>)["/healthz/", "/livez/", "/readyz/", "/openapi/v3/", "/apis/", "/api/"])
        {
            if (path.StartsWith(prefix, StringComparison.Ordinal))
            {
                return prefix[..^1];
            }
        }

        return "other";
    }

    /// <summary>The version segment of /api/VERSION/… or /apis/GROUP/VERSION/….</summary>
    private static string Version(string path)
    {
        var span = path.AsSpan();
        var skip = span.StartsWith("/apis/") ? 2 : 1;
        var start = 0;
        for (var i = 0; i < skip; i++)
        {
            var next = span[(start + 1)..].IndexOf('/');
            if (next < 0)
            {
                return string.Empty;
            }

            start += next + 1;
        }

        var rest = span[(start + 1)..];
        var end = rest.IndexOf('/');
        var version = end < 0 ? rest : rest[..end];
        return version switch
        {
            "v1" => "v1",
            "v1beta1" => "v1beta1",
            "v2" => "v2",
            _ => version.ToString(),
        };
    }
}
