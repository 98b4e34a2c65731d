using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Security.ServiceAccountTokens;

/// <summary>Signs service-account tokens with upstream's claim layout (iss, sub, aud, exp, nbf, iat, jti, kubernetes.io).</summary>
internal sealed class ServiceAccountTokenIssuer(ServiceAccountSigningKey key, string issuer, IReadOnlyList<string> apiAudiences, TimeProvider time)
{
    /// <summary>The issuer kube-apiserver distributions default to, and so the audience tokens are for unless asked otherwise.</summary>
    public const string DefaultIssuer = "https://kubernetes.default.svc.cluster.local";

    public ServiceAccountSigningKey Key => key;

    public string Issuer => issuer;

    /// <summary>The audiences the API server itself accepts (its own issuer unless configured).</summary>
    public IReadOnlyList<string> ApiAudiences => apiAudiences;

    public TimeProvider Time => time;

    public (string Token, DateTimeOffset Expires) Issue(ServiceAccountTokenClaims claims, IReadOnlyList<string> audiences, long expirationSeconds)
    {
        var now = time.GetUtcNow();
        var issuedAt = now.ToUnixTimeSeconds();
        var expires = DateTimeOffset.FromUnixTimeSeconds(issuedAt + expirationSeconds);
        var kubernetes = new JsonObject { ["namespace"] = claims.Namespace };
        if (claims.Node is { } node)
        {
            kubernetes["node"] = Reference(node);
        }

        if (claims.Pod is { } pod)
        {
            kubernetes["pod"] = Reference(pod);
        }

        if (claims.Secret is { } secret)
        {
            kubernetes["secret"] = Reference(secret);
        }

        kubernetes["serviceaccount"] = Reference(claims.ServiceAccount);
        var payload = new JsonObject
        {
            ["aud"] = new JsonArray([.. audiences.Select(a => (JsonNode)JsonValue.Create(a))]),
            ["exp"] = expires.ToUnixTimeSeconds(),
            ["iat"] = issuedAt,
            ["iss"] = issuer,
            ["jti"] = Guid.NewGuid().ToString(),
            ["kubernetes.io"] = kubernetes,
            ["nbf"] = issuedAt,
            ["sub"] = claims.UserName,
        };
        return (JsonWebToken.Sign(payload, key), expires);
    }

    private static JsonObject Reference(BoundObject bound) => new() { ["name"] = bound.Name, ["uid"] = bound.Uid };
}
