using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Kubesharp.Ingress;

/// <summary>
/// What the backend sees, as upstream ingress controllers send it: the client's Host header, and the client's
/// address, scheme and host in the X-Forwarded headers; the response's body goes to the client in as few writes as
/// it arrives in (<see cref="CoalescedResponseBody"/>).
/// </summary>
internal sealed class IngressTransformer : HttpTransformer
{
    public static readonly IngressTransformer Instance = new();

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        var request = httpContext.Request;
        proxyRequest.Headers.Host = request.Host.Value;
        var client = httpContext.Connection.RemoteIpAddress?.ToString();
        var forwardedFor = request.Headers["X-Forwarded-For"].ToString();
        proxyRequest.Headers.Remove("X-Forwarded-For");
        if (client is not null)
        {
            proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor.Length > 0 ? forwardedFor + ", " + client : client);
        }

        proxyRequest.Headers.Remove("X-Forwarded-Proto");
        proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
        proxyRequest.Headers.Remove("X-Forwarded-Host");
        proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var proceed = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        CoalescedResponseBody.Install(httpContext, proxyResponse);
        return proceed;
    }
}
