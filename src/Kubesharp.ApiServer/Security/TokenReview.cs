using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Security;

/// <summary>The status of a TokenReview (authentication.k8s.io/v1): who the token is, for which of the asked audiences.</summary>
internal static class TokenReview
{
    public static JsonObject Status(JsonObject review, ResourceRegistry registry)
    {
        var spec = review["spec"] as JsonObject;
        var token = spec?["token"] is JsonValue t && t.TryGetValue<string>(out var text) ? text : null;
        if (string.IsNullOrEmpty(token))
        {
            throw StatusError.Invalid("TokenReview", "authentication.k8s.io", string.Empty, [new StatusCause("FieldValueRequired", "Required value: token must not be empty", "spec.token")]);
        }

        List<string>? audiences = spec?["audiences"] is JsonArray list ? [.. list.Select(a => a is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>()] : null;
        var apiAudiences = registry.TokenIssuer?.ApiAudiences ?? [];
        IReadOnlyList<string> matched = [];
        var user = registry.Authenticator is { } authenticator ? authenticator.AuthenticateToken(token, audiences, apiAudiences, out matched) : null;
        if (user is null)
        {
            // authenticated is omitted when false, as upstream's encoding does.
            return new JsonObject { ["user"] = new JsonObject(), ["error"] = "[invalid bearer token, token lookup failed]" };
        }

        return new JsonObject
        {
            ["authenticated"] = true,
            ["user"] = VirtualResources.UserNode(user),
            ["audiences"] = new JsonArray([.. matched.Select(a => (JsonNode)JsonValue.Create(a))]),
        };
    }
}
