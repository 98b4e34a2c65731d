using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Security.ServiceAccountTokens;

/// <summary>A compact-serialised JWS (RFC 7515) as service-account tokens use: header.payload.signature, each base64url.</summary>
internal sealed record JsonWebToken(JsonObject Header, JsonObject Payload, byte[] SigningInput, byte[] Signature)
{
    /// <summary>Longest token looked at; a service-account token is about a kilobyte.</summary>
    private const int MaxLength = 16 * 1024;

    public static string Sign(JsonObject payload, ServiceAccountSigningKey key)
    {
        var header = new JsonObject { ["alg"] = key.Algorithm, ["kid"] = key.KeyId };
        var signingInput = Encode(header) + "." + Encode(payload);
        return signingInput + "." + Base64Url.EncodeToString(key.Sign(Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>Whether the text has the shape of a compact JWS; anything else is some other kind of bearer token.</summary>
    public static bool LooksLikeOne(string token) =>
        token.Length <= MaxLength && token.StartsWith("eyJ", StringComparison.Ordinal) && token.Count(c => c == '.') == 2;

    public static JsonWebToken? TryParse(string token)
    {
        if (!LooksLikeOne(token))
        {
            return null;
        }

        var parts = token.Split('.');
        try
        {
            var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0])) as JsonObject;
            var payload = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1])) as JsonObject;
            var signature = Base64Url.DecodeFromChars(parts[2]);
            return header is null || payload is null ? null : new JsonWebToken(header, payload, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    private static string Encode(JsonObject node) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(node, Caching.StoredJsonContext.Default.JsonObject));
}
