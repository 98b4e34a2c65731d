using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Caching;

namespace Kubesharp.ApiServer.Security.ServiceAccountTokens;

/// <summary>
/// Accepts the tokens <see cref="ServiceAccountTokenIssuer"/> signs while they are valid: signature, issuer, audience,
/// expiry and not-before, and the service account (and the pod or secret the token is bound to) still existing with
/// the uid the token names.
/// </summary>
internal sealed class ServiceAccountTokenAuthenticator(ServiceAccountTokenIssuer issuer, WatchCache cache)
{
    /// <summary>A pod being deleted keeps its tokens this long past its deletion timestamp, as upstream.</summary>
    private static readonly TimeSpan DeletionGrace = TimeSpan.FromSeconds(60);

    public const string PodNameExtra = "authentication.kubernetes.io/pod-name";
    public const string PodUidExtra = "authentication.kubernetes.io/pod-uid";
    public const string NodeNameExtra = "authentication.kubernetes.io/node-name";
    public const string NodeUidExtra = "authentication.kubernetes.io/node-uid";
    public const string CredentialIdExtra = "authentication.kubernetes.io/credential-id";

    /// <summary>The user of a valid token for one of <paramref name="audiences"/> (the API's own when null), or null.</summary>
    public UserInfo? Authenticate(string token, IReadOnlyList<string>? audiences, out IReadOnlyList<string> matched)
    {
        matched = [];
        var jwt = JsonWebToken.TryParse(token);
        if (jwt is null || (string?)jwt.Header["alg"] != issuer.Key.Algorithm || !issuer.Key.Verify(jwt.SigningInput, jwt.Signature))
        {
            return null;
        }

        var payload = jwt.Payload;
        if (Text(payload["iss"]) != issuer.Issuer)
        {
            return null;
        }

        var tokenAudiences = payload["aud"] switch
        {
            JsonArray list => list.Select(Text).OfType<string>().ToList(),
            JsonValue single when Text(single) is { } one => [one],
            _ => [],
        };
        matched = [.. (audiences ?? issuer.ApiAudiences).Where(tokenAudiences.Contains)];
        if (matched.Count == 0)
        {
            return null;
        }

        var now = issuer.Time.GetUtcNow().ToUnixTimeSeconds();
        if (Seconds(payload["exp"]) is not { } exp || now >= exp || Seconds(payload["nbf"]) is { } nbf && now < nbf)
        {
            return null;
        }

        if (Claims(payload["kubernetes.io"]) is not { } claims || Text(payload["sub"]) != claims.UserName || !StillBound(claims))
        {
            return null;
        }

        var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (claims.Pod is { } pod)
        {
            extra[PodNameExtra] = [pod.Name];
            extra[PodUidExtra] = [pod.Uid];
        }

        if (claims.Node is { } node)
        {
            extra[NodeNameExtra] = [node.Name];
            extra[NodeUidExtra] = [node.Uid];
        }

        if (Text(payload["jti"]) is { Length: > 0 } jti)
        {
            extra[CredentialIdExtra] = ["JTI=" + jti];
        }

        return new UserInfo(claims.UserName, ServiceAccountUser.Groups(claims.Namespace)) { Uid = claims.ServiceAccount.Uid, Extra = extra };
    }

    private bool StillBound(ServiceAccountTokenClaims claims)
    {
        if (!Exists("serviceaccounts", claims.Namespace, claims.ServiceAccount, TimeSpan.Zero))
        {
            return false;
        }

        return (claims.Pod is null || Exists("pods", claims.Namespace, claims.Pod, DeletionGrace)) &&
               (claims.Secret is null || Exists("secrets", claims.Namespace, claims.Secret, TimeSpan.Zero)) &&
               // A node named beside a pod is informative; a token bound to the node itself needs it to exist.
               (claims.Node is null || claims.Pod is not null || Exists("nodes", null, claims.Node, TimeSpan.Zero));
    }

    private bool Exists(string groupResource, string? @namespace, BoundObject bound, TimeSpan deletionGrace)
    {
        var key = @namespace is null ? $"{WatchCache.RegistryPrefix}{groupResource}/{bound.Name}" : $"{WatchCache.RegistryPrefix}{groupResource}/{@namespace}/{bound.Name}";
        var stored = cache.For(groupResource).Get(key);
        if (stored is null || stored.Uid != bound.Uid)
        {
            return false;
        }

        if (stored.Metadata.TryGetProperty("deletionTimestamp", out var deletion) && deletion.ValueKind == JsonValueKind.String &&
            DateTimeOffset.TryParse(deletion.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var deletedAt))
        {
            return issuer.Time.GetUtcNow() < deletedAt + deletionGrace;
        }

        return true;
    }

    private static ServiceAccountTokenClaims? Claims(JsonNode? node)
    {
        if (node is not JsonObject kubernetes || Text(kubernetes["namespace"]) is not { Length: > 0 } ns || Reference(kubernetes["serviceaccount"]) is not { } account)
        {
            return null;
        }

        return new ServiceAccountTokenClaims(ns, account, Reference(kubernetes["pod"]), Reference(kubernetes["secret"]), Reference(kubernetes["node"]));
    }

    private static BoundObject? Reference(JsonNode? node) =>
        node is JsonObject o && Text(o["name"]) is { Length: > 0 } name && Text(o["uid"]) is { Length: > 0 } uid ? new BoundObject(name, uid) : null;

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static long? Seconds(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) ? (long)d : null;
}
