using System.Net.Http;
using Kubesharp.ApiServer.Security;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Kubesharp.ApiServer.Aggregation;

/// <summary>
/// Forwards a request for an aggregated group-version to its extension API server, streaming both ways (watches
/// included). The caller, already authenticated and authorized here, travels in the request headers the front-proxy
/// client certificate vouches for; the caller's own credentials and impersonation headers go nowhere. An unavailable
/// APIService answers 503 as upstream's aggregator does.
/// </summary>
internal sealed class ApiServiceProxy(IHttpForwarder forwarder, ApiServiceTransport transport, ApiServiceAvailabilityController availability)
{
    public const string UserHeader = "X-Remote-User";
    public const string GroupHeader = "X-Remote-Group";
    public const string ExtraHeaderPrefix = "X-Remote-Extra-";

    // HTTP/1.1, where each value of the identity headers gets its own line (see RepeatedHeaderStream).
    private static readonly ForwarderRequestConfig Config = new()
    {
        ActivityTimeout = TimeSpan.FromHours(1),
        Version = System.Net.HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    public async Task HandleAsync(HttpContext context, ApiServiceBackend backend, UserInfo user)
    {
        if (!backend.Available)
        {
            await WriteUnavailableAsync(context, "service unavailable").ConfigureAwait(false);
            return;
        }

        var error = await forwarder.SendAsync(context, $"https://{backend.Host}:{backend.ServicePort}", transport.For(backend), Config, new IdentityTransformer(user)).ConfigureAwait(false);
        if (error is ForwarderError.None or ForwarderError.RequestCanceled or ForwarderError.ResponseBodyCanceled or ForwarderError.UpgradeRequestCanceled)
        {
            return;
        }

        if (error is ForwarderError.Request or ForwarderError.RequestTimedOut)
        {
            // The backend may be gone: check it now rather than at the next resync.
            availability.Recheck(backend.Name);
        }

        if (!context.Response.HasStarted)
        {
            var failure = context.Features.Get<IForwarderErrorFeature>()?.Exception;
            await WriteUnavailableAsync(context, $"error trying to reach service: {failure?.InnerException?.Message ?? failure?.Message ?? error.ToString()}").ConfigureAwait(false);
        }
    }

    /// <summary>Upstream's aggregator answers these in plain text (kubectl shows "the server is currently unable to handle the request").</summary>
    private static async Task WriteUnavailableAsync(HttpContext context, string message)
    {
        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        await context.Response.WriteAsync(message + "\n", context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The caller as upstream's request-header authentication reads it: one line per group and per extra value.</summary>
    public static void AddIdentity(System.Net.Http.Headers.HttpHeaders headers, UserInfo user)
    {
        headers.TryAddWithoutValidation(UserHeader, user.Name);
        AddEach(headers, GroupHeader, user.Groups);
        foreach (var (key, values) in user.Extra)
        {
            // Extra keys travel percent-encoded, as upstream's request-header authenticator decodes them.
            AddEach(headers, ExtraHeaderPrefix + Uri.EscapeDataString(key), values);
        }
    }

    private static void AddEach(System.Net.Http.Headers.HttpHeaders headers, string name, IReadOnlyList<string> values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            headers.TryAddWithoutValidation(values.Count == 1 ? name : RepeatedHeaderStream.Name(name, i), values[i]);
        }
    }

    private sealed class IdentityTransformer(UserInfo user) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
            proxyRequest.Headers.Host = null;
            proxyRequest.Headers.Authorization = null;
            foreach (var header in proxyRequest.Headers.Select(h => h.Key).ToList())
            {
                if (header.StartsWith("Impersonate-", StringComparison.OrdinalIgnoreCase) || header.StartsWith("X-Remote-", StringComparison.OrdinalIgnoreCase))
                {
                    proxyRequest.Headers.Remove(header);
                }
            }

            AddIdentity(proxyRequest.Headers, user);
        }
    }
}
