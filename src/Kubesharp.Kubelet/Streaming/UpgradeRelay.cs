using System.Net.Security;
using Kubesharp.ApiMachinery.HttpStreams;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Kubesharp.Kubelet.Streaming;

/// <summary>Passes an upgrade request on to the runtime's streaming server and, once it switches protocols, joins the two connections.</summary>
internal static class UpgradeRelay
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);

    public static async Task RelayAsync(HttpContext context, Uri target, SslClientAuthenticationOptions? tls, CancellationToken cancellationToken)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is not { IsUpgradableRequest: true })
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("Upgrade request required", cancellationToken);
            return;
        }

        var headers = UpgradeHeaders.Forwarded(context.Request.Headers.Select(h => new KeyValuePair<string, IEnumerable<string>>(h.Key, h.Value.Select(v => v ?? ""))));
        UpgradeResponse backend;
        using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            handshake.CancelAfter(HandshakeTimeout);
            backend = await HttpUpgrade.SendAsync(target, context.Request.Method, headers.ToList(), tls, handshake.Token);
        }

        await using (backend)
        {
            if (!backend.Upgraded)
            {
                var body = await backend.ReadBodyAsync(64 * 1024, cancellationToken);
                context.Response.StatusCode = backend.StatusCode;
                context.Response.ContentType = backend.Header("Content-Type") ?? "text/plain; charset=utf-8";
                await context.Response.Body.WriteAsync(body, cancellationToken);
                return;
            }

            foreach (var (name, value) in backend.Headers)
            {
                if (UpgradeHeaders.IsRelayedResponseHeader(name))
                {
                    context.Response.Headers.Append(name, value);
                }
            }

            var client = await upgrade.UpgradeAsync();
            await using (client)
            {
                await StreamSplice.RunAsync(client, backend.Stream, cancellationToken);
            }
        }
    }
}
