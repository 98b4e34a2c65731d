using Kubesharp.Api.OpenApi;
using Kubesharp.ApiServer.Http;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Discovery;

/// <summary>Serves /openapi/v2, the /openapi/v3 index and per group-version documents, each built on first use.</summary>
public sealed class OpenApiEndpoint(Func<OpenApiDocument>? v2, Func<OpenApiV3Documents>? v3)
{
    private readonly Lazy<OpenApiDocument?> _v2 = new(() => v2?.Invoke());
    private readonly Lazy<OpenApiV3Documents?> _v3 = new(() => v3?.Invoke());

    /// <summary>The custom resources' documents of the current catalog (v3 only).</summary>
    internal Func<CustomResourceOpenApi>? CustomDocuments { get; set; }

    /// <summary>The built-in API's documents.</summary>
    public static OpenApiEndpoint BuiltIn() => new(() => OpenApiDocuments.V2, () => OpenApiDocuments.V3);

    internal async Task<bool> TryWriteAsync(HttpContext context, string[] segments)
    {
        OpenApiDocument? document = null;
        var custom = CustomDocuments?.Invoke();
        if (segments.Length == 2 && segments[1] == "v2")
        {
            document = _v2.Value;
        }
        else if (segments.Length == 2 && segments[1] == "v3")
        {
            document = _v3.Value?.Index;
            if (custom is { IsEmpty: false })
            {
                document = custom.Index(document);
            }
        }
        else if (segments.Length > 2 && segments[1] == "v3" && custom is not null && custom.TryGet(string.Join('/', segments.Skip(2)), out var customDocument))
        {
            document = customDocument;
        }
        else if (segments.Length > 2 && segments[1] == "v3" && _v3.Value is { } v3Documents)
        {
            v3Documents.TryGet(string.Join('/', segments.Skip(2)), out document);
        }

        if (document is null)
        {
            return false;
        }

        if (segments.Length > 2)
        {
            context.Response.Headers.CacheControl = context.Request.Query.ContainsKey("hash") ? "public, immutable" : "no-cache, private";
        }

        context.Response.Headers.ETag = document.ETag;
        if (context.Request.Headers.IfNoneMatch.ToString() == document.ETag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return true;
        }

        await JsonResponses.WriteRawAsync(context, 200, document.Json).ConfigureAwait(false);
        return true;
    }
}
