using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Http;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Security.ServiceAccountTokens;

/// <summary>
/// The serviceaccounts/token subresource: a TokenRequest (authentication.k8s.io/v1) answered with a signed token for
/// the account, for the requested audiences and lifetime, optionally bound to a Pod or Secret of its namespace.
/// </summary>
internal sealed class TokenRequestEndpoint(ServiceAccountTokenIssuer issuer, WatchCache cache, int maxBodyBytes)
{
    private const string Group = "authentication.k8s.io";
    public const long DefaultExpirationSeconds = 3600;
    private const long MinExpirationSeconds = 600;
    private const long MaxExpirationSeconds = 1L << 32;

    public async Task HandleAsync(HttpContext context, string @namespace, string name)
    {
        var body = await RequestBody.ReadObjectAsync(context.Request, maxBodyBytes, context.RequestAborted).ConfigureAwait(false);
        if ((string?)Text(body["kind"]) is { } kind && kind != "TokenRequest" || Text(body["apiVersion"]) is { } apiVersion && apiVersion != Group + "/v1")
        {
            throw StatusError.BadRequest($"the body of the request was in an unknown format: expected TokenRequest {Group}/v1");
        }

        var spec = body["spec"] as JsonObject ?? [];
        var expiration = spec["expirationSeconds"] is JsonValue seconds && seconds.GetValueKind() == JsonValueKind.Number ? seconds.GetValue<long>() : DefaultExpirationSeconds;
        if (expiration < MinExpirationSeconds)
        {
            throw Invalid(name, "spec.expirationSeconds", expiration, "may not specify a duration less than 10 minutes");
        }

        if (expiration > MaxExpirationSeconds)
        {
            throw Invalid(name, "spec.expirationSeconds", expiration, "may not specify a duration larger than 2^32 seconds");
        }

        var account = Find("serviceaccounts", @namespace, name) ?? throw StatusError.NotFound("serviceaccounts", string.Empty, name);
        var claims = new ServiceAccountTokenClaims(@namespace, new BoundObject(name, account.Uid ?? string.Empty));
        if (spec["boundObjectRef"] is JsonObject reference)
        {
            claims = Bind(claims, reference);
        }

        var audiences = spec["audiences"] is JsonArray requested && requested.Count > 0
            ? requested.Select(Text).OfType<string>().ToList()
            : [.. issuer.ApiAudiences];
        var (token, expires) = issuer.Issue(claims, audiences, expiration);

        var responseSpec = new JsonObject
        {
            ["audiences"] = new JsonArray([.. audiences.Select(a => (JsonNode)JsonValue.Create(a))]),
            ["expirationSeconds"] = expiration,
        };
        if (spec["boundObjectRef"] is JsonObject bound)
        {
            var echoed = bound.DeepClone().AsObject();
            echoed["uid"] = claims.Pod?.Uid ?? claims.Secret?.Uid ?? claims.Node?.Uid;
            responseSpec["boundObjectRef"] = echoed;
        }

        var response = new JsonObject
        {
            ["kind"] = "TokenRequest",
            ["apiVersion"] = Group + "/v1",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = @namespace, ["creationTimestamp"] = null },
            ["spec"] = responseSpec,
            ["status"] = new JsonObject
            {
                ["token"] = token,
                ["expirationTimestamp"] = expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            },
        };
        await JsonResponses.WriteAsync(context, StatusCodes.Status201Created, response).ConfigureAwait(false);
    }

    /// <summary>Names the bound object in the claims, as upstream refuses: unknown kinds, absent objects, stale uids, another account's pod.</summary>
    private ServiceAccountTokenClaims Bind(ServiceAccountTokenClaims claims, JsonObject reference)
    {
        var kind = Text(reference["kind"]) ?? string.Empty;
        var apiVersion = Text(reference["apiVersion"]) ?? "v1";
        var name = Text(reference["name"]) ?? string.Empty;
        var (resource, scoped) = (kind, apiVersion) switch
        {
            ("Pod", "v1") => ("pods", true),
            ("Secret", "v1") => ("secrets", true),
            ("Node", "v1") => ("nodes", false),
            _ => throw StatusError.BadRequest($"cannot bind token to object of type {(apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion : "/" + apiVersion)}, Kind={kind}"),
        };
        var stored = Find(resource, scoped ? claims.Namespace : null, name) ?? throw StatusError.NotFound(resource, string.Empty, name);
        var uid = stored.Uid ?? string.Empty;
        if (Text(reference["uid"]) is { Length: > 0 } expected && expected != uid)
        {
            throw StatusError.Conflict(kind, string.Empty, name, $"the UID in the bound object reference ({expected}) does not match the UID in record. The object might have been deleted and then recreated");
        }

        var bound = new BoundObject(name, uid);
        switch (kind)
        {
            case "Pod":
                var podAccount = stored.Root.TryGetProperty("spec", out var spec) && spec.TryGetProperty("serviceAccountName", out var sa) ? sa.GetString() : null;
                if (podAccount != claims.ServiceAccount.Name)
                {
                    throw StatusError.BadRequest($"cannot bind token for serviceaccount \"{claims.ServiceAccount.Name}\" to pod running with different serviceaccount name.");
                }

                var nodeName = spec.TryGetProperty("nodeName", out var n) ? n.GetString() : null;
                var node = string.IsNullOrEmpty(nodeName) ? null : Find("nodes", null, nodeName);
                return claims with { Pod = bound, Node = node is null ? null : new BoundObject(nodeName!, node.Uid ?? string.Empty) };
            case "Secret":
                return claims with { Secret = bound };
            default:
                return claims with { Node = bound };
        }
    }

    private CachedObject? Find(string resource, string? @namespace, string name) =>
        cache.For(resource).Get(@namespace is null ? $"{WatchCache.RegistryPrefix}{resource}/{name}" : $"{WatchCache.RegistryPrefix}{resource}/{@namespace}/{name}");

    private static StatusError Invalid(string name, string field, long value, string detail) =>
        StatusError.Invalid("TokenRequest", Group, name, [new StatusCause("FieldValueInvalid", $"Invalid value: {value}: {detail}", field)]);

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
