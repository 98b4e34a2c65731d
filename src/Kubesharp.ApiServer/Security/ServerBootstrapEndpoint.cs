using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Http;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Security;

/// <summary>
/// GET /v1-kubesharp/server-bootstrap: what a server joining this one's cluster needs (as k3s's bootstrap data): the
/// cluster CA and its key, the service-account signing key, the token file, the encryption configuration, and the
/// etcd client URL where it adds itself as a member. Only the server token (the token file's node token) may read it:
/// an administrator's certificate, a bootstrap token or a service account is refused, since the keys make any identity.
/// </summary>
internal static class ServerBootstrapEndpoint
{
    public const string Segment = "server-bootstrap";

    /// <summary>The data-directory files a joining server takes over, relative to the data directory.</summary>
    public static readonly IReadOnlyList<string> SharedFiles =
    [
        "server/tls/ca.crt",
        "server/tls/ca.key",
        "server/tls/service.key",
        "server/token-auth.csv",
        "server/cred/encryption-config.json",
    ];

    public static async Task HandleAsync(HttpContext context, ApiServerHost host, RequestAuthenticator authenticator)
    {
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            throw StatusError.MethodNotAllowed("the server does not allow this method on the requested resource");
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        var token = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
        if (token is null || !authenticator.IsServerToken(token))
        {
            throw new StatusError(403, "Forbidden", "only the server token may read the cluster's bootstrap data");
        }

        if (host.EtcdMemberClientUrl is not { } etcd)
        {
            throw StatusError.BadRequest("this server runs no etcd member (start the first server with --cluster-init) and cannot be joined by another server");
        }

        var files = new JsonObject();
        foreach (var relative in SharedFiles)
        {
            var path = Path.Combine(host.Options.DataDir, relative);
            if (File.Exists(path))
            {
                files[relative] = await File.ReadAllTextAsync(path, context.RequestAborted).ConfigureAwait(false);
            }
        }

        await JsonResponses.WriteAsync(context, 200, new JsonObject { ["etcdClientUrl"] = etcd, ["files"] = files }).ConfigureAwait(false);
    }
}
