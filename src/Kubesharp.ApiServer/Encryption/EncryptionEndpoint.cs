using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Http;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Encryption;

/// <summary>
/// The server side of <c>kubesharp secrets-encrypt</c> (as k3s serves its own verbs): GET /v1-kubesharp/encrypt/status
/// and POST /v1-kubesharp/encrypt/VERB. Non-resource URLs, so only users RBAC grants them (cluster admins) get here.
/// </summary>
internal static class EncryptionEndpoint
{
    public const string Root = "v1-kubesharp";

    public static async Task HandleAsync(HttpContext context, SecretsEncryption encryption, string[] segments)
    {
        if (segments.Length != 3 || segments[1] != "encrypt")
        {
            throw StatusError.PathNotFound();
        }

        var verb = segments[2];
        if (verb == "status" && HttpMethods.IsGet(context.Request.Method))
        {
            await JsonResponses.WriteAsync(context, 200, encryption.Status()).ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(context.Request.Method))
        {
            throw new StatusError(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource");
        }

        JsonObject result;
        try
        {
            result = await encryption.RunAsync(verb, context.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            throw new StatusError(400, "BadRequest", ex.Message);
        }
        catch (FormatException ex)
        {
            throw new StatusError(400, "BadRequest", ex.Message);
        }

        await JsonResponses.WriteAsync(context, 200, result).ConfigureAwait(false);
    }
}
