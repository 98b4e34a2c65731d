using Kubesharp.ApiServer.Http;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Discovery;

/// <summary>
/// Serves /openapi/v2, the /openapi/v3 index and per group-version documents from builders supplied at start
/// (each built once, on first use).
/// </summary>
public sealed class OpenApiDocuments
{
    private readonly Lazy<byte[]?> _v2;
    private readonly Func<IReadOnlyDictionary<string, Func<byte[]>>> _v3Paths;
    private readonly Lazy<IReadOnlyDictionary<string, Lazy<byte[]>>> _v3;

    /// <param name="v2">Builds the whole v2 document as JSON; null when none is served.</param>
    /// <param name="v3">Per path under /openapi/v3 (api/v1, apis/apps/v1), a builder of that document as JSON.</param>
    public OpenApiDocuments(Func<byte[]>? v2, Func<IReadOnlyDictionary<string, Func<byte[]>>>? v3)
    {
        _v2 = new Lazy<byte[]?>(() => v2?.Invoke());
        _v3Paths = v3 ?? (() => new Dictionary<string, Func<byte[]>>());
        _v3 = new Lazy<IReadOnlyDictionary<string, Lazy<byte[]>>>(() => _v3Paths().ToDictionary(kv => kv.Key, kv => new Lazy<byte[]>(kv.Value), StringComparer.Ordinal));
    }

    internal async Task<bool> TryWriteAsync(HttpContext context, string[] segments)
    {
        if (segments.Length == 2 && segments[1] == "v2" && _v2.Value is { } v2)
        {
            await JsonResponses.WriteRawAsync(context, 200, v2).ConfigureAwait(false);
            return true;
        }

        if (segments.Length >= 2 && segments[1] == "v3")
        {
            var documents = _v3.Value;
            if (segments.Length == 2)
            {
                var paths = new System.Text.Json.Nodes.JsonObject();
                foreach (var (path, document) in documents)
                {
                    paths[path] = new System.Text.Json.Nodes.JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{path}?hash={Hash(document.Value)}" };
                }

                await JsonResponses.WriteAsync(context, 200, new System.Text.Json.Nodes.JsonObject { ["paths"] = paths }).ConfigureAwait(false);
                return true;
            }

            var key = string.Join('/', segments.Skip(2));
            if (documents.TryGetValue(key, out var doc))
            {
                context.Response.Headers.CacheControl = context.Request.Query.ContainsKey("hash") ? "public, immutable" : "no-cache, private";
                context.Response.Headers.ETag = $"\"{Hash(doc.Value)}\"";
                await JsonResponses.WriteRawAsync(context, 200, doc.Value).ConfigureAwait(false);
                return true;
            }
        }

        return false;
    }

    private static string Hash(byte[] document) => Convert.ToHexString(System.Security.Cryptography.SHA512.HashData(document))[..64];
}
