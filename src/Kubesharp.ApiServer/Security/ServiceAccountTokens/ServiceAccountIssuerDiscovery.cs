using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Http;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Security.ServiceAccountTokens;

/// <summary>
/// The OpenID Connect discovery document and the key set for the service-account issuer, so that relying parties
/// outside the cluster can verify service-account tokens.
/// </summary>
internal sealed class ServiceAccountIssuerDiscovery(ServiceAccountTokenIssuer issuer, Func<Uri> externalUrl)
{
    public const string ConfigurationPath = "/.well-known/openid-configuration";
    public const string KeySetPath = "/openid/v1/jwks";

    public static bool Handles(string path) => path is ConfigurationPath or KeySetPath;

    public async Task HandleAsync(HttpContext context, string path)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            throw StatusError.MethodNotAllowed("the server does not allow this method on the requested resource");
        }

        context.Response.Headers.CacheControl = "public, max-age=3600";
        if (path == ConfigurationPath)
        {
            await JsonResponses.WriteAsync(context, StatusCodes.Status200OK, Configuration()).ConfigureAwait(false);
        }
        else
        {
            await JsonResponses.WriteAsync(context, StatusCodes.Status200OK, KeySet(), "application/jwk-set+json").ConfigureAwait(false);
        }
    }

    public JsonObject Configuration() => new()
    {
        ["issuer"] = issuer.Issuer,
        ["jwks_uri"] = new Uri(externalUrl(), KeySetPath).ToString(),
        ["response_types_supported"] = new JsonArray("id_token"),
        ["subject_types_supported"] = new JsonArray("public"),
        ["id_token_signing_alg_values_supported"] = new JsonArray(issuer.Key.Algorithm),
    };

    public JsonObject KeySet() => new() { ["keys"] = new JsonArray(issuer.Key.ToJwk()) };
}
