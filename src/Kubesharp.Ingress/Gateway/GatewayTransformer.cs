using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// What the backend of an HTTPRoute rule with filters sees: the ingress proxy's usual request (Host and X-Forwarded
/// headers), then the rule's and backendRef's header modifiers and URL rewrite; the response is the ingress proxy's
/// (its body coalesced), then gets their response header modifiers. Built once per match and backendRef when the routes are built, so a request allocates none.
/// </summary>
internal sealed class GatewayTransformer(GatewayFilters filters, string matchedPrefix) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(proxyRequest);
        await IngressTransformer.Instance.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        if (filters.RewriteHostname is { } hostname)
        {
            proxyRequest.Headers.Host = hostname;
        }

        if (filters.RewritePath is { } rewrite)
        {
            var request = httpContext.Request;
            var path = rewrite.Apply(request.Path.Value is { Length: > 0 } p ? p : "/", matchedPrefix);
            proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, new PathString(path), request.QueryString);
        }

        filters.RequestHeaders?.Apply(proxyRequest);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var proceed = await IngressTransformer.Instance.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        filters.ResponseHeaders?.Apply(httpContext.Response.Headers);
        return proceed;
    }
}
