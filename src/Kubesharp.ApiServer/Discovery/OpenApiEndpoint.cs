using System.Globalization;
using System.Runtime.CompilerServices;
using Kubesharp.Api.OpenApi;
using Kubesharp.ApiServer.Http;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Discovery;

/// <summary>
/// Serves /openapi/v2 (JSON, or the protobuf form kubectl asks for), the /openapi/v3 index and per group-version
/// documents, each built on first use.
/// </summary>
public sealed class OpenApiEndpoint(Func<OpenApiDocument>? v2, Func<OpenApiV3Documents>? v3)
{
    private const string DeprecatedProtobufSubtype = "com.github.proto-openapi.spec.v2@v1.0+protobuf";

    // The v2 media subtypes in the order a wildcard picks them, and what each is answered with.
    private static readonly (string Subtype, bool Protobuf)[] V2Forms =
    [
        ("json", false), (DeprecatedProtobufSubtype, true), (OpenApiV2Protobuf.ContentType["application/".Length..], true),
    ];

    private readonly Lazy<OpenApiDocument?> _v2 = new(() => v2?.Invoke());
    private readonly Lazy<OpenApiV3Documents?> _v3 = new(() => v3?.Invoke());

    // The protobuf form of each v2 document served (the built-in one, and one per catalog with custom resources).
    private readonly ConditionalWeakTable<OpenApiDocument, byte[]> _protobuf = [];

    /// <summary>The custom resources' documents of the current catalog.</summary>
    internal Func<CustomResourceOpenApi>? CustomDocuments { get; set; }

    /// <summary>The built-in API's documents.</summary>
    public static OpenApiEndpoint BuiltIn() => new(() => OpenApiDocuments.V2, () => OpenApiDocuments.V3);

    internal async Task<bool> TryWriteAsync(HttpContext context, string[] segments)
    {
        OpenApiDocument? document = null;
        var custom = CustomDocuments?.Invoke();
        if (segments.Length == 2 && segments[1] == "v2")
        {
            if (_v2.Value is not { } builtIn)
            {
                return false;
            }

            await WriteV2Async(context, custom?.V2(builtIn) ?? builtIn).ConfigureAwait(false);
            return true;
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

        if (EntityTags.AnswerNotModified(context, document.ETag))
        {
            return true;
        }

        await JsonResponses.WriteRawAsync(context, 200, document.Json).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// The v2 document in the form Accept prefers; both forms share the JSON document's entity tag, as kube-apiserver's
    /// do, and the answer varies by Accept.
    /// </summary>
    private async Task WriteV2Async(HttpContext context, OpenApiDocument document)
    {
        var protobuf = PrefersProtobuf(context.Request.Headers.Accept.ToString());
        context.Response.Headers.Vary = "Accept";
        if (EntityTags.AnswerNotModified(context, document.ETag))
        {
            return;
        }

        if (protobuf)
        {
            var bytes = _protobuf.GetValue(document, static d => OpenApiV2Protobuf.Encode(d.Json.Span));
            await JsonResponses.WriteRawAsync(context, 200, bytes, OpenApiV2Protobuf.ContentType).ConfigureAwait(false);
        }
        else
        {
            await JsonResponses.WriteRawAsync(context, 200, document.Json).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether the first acceptable Accept entry (by q-value, then specificity) names the protobuf form; a wildcard
    /// means JSON. An Accept that names neither form is refused with 406.
    /// </summary>
    private static bool PrefersProtobuf(string accept)
    {
        var ranges = new List<(string Type, string Subtype, double Q, int Specificity)>();
        foreach (var entry in (string.IsNullOrWhiteSpace(accept) ? "*/*" : accept).Split(','))
        {
            var parts = entry.Split(';', StringSplitOptions.TrimEntries);
            var slash = parts[0].IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                continue;
            }

            var q = 1.0;
            foreach (var parameter in parts.Skip(1))
            {
                var kv = parameter.Split('=', 2, StringSplitOptions.TrimEntries);
                if (kv is ["q", var value] && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out q))
                {
                    q = 0;
                }
            }

            var type = parts[0][..slash].ToLowerInvariant();
            var subtype = parts[0][(slash + 1)..].ToLowerInvariant();
            if (q > 0)
            {
                ranges.Add((type, subtype, q, (type == "*" ? 0 : 1) + (subtype == "*" ? 0 : 1)));
            }
        }

        foreach (var range in ranges.OrderByDescending(r => r.Q).ThenByDescending(r => r.Specificity))
        {
            if (range.Type is not ("application" or "*"))
            {
                continue;
            }

            foreach (var (subtype, protobuf) in V2Forms)
            {
                if (range.Subtype == "*" || range.Subtype == subtype)
                {
                    return protobuf;
                }
            }
        }

        throw StatusError.NotAcceptable($"only the following media types are accepted: application/json, {OpenApiV2Protobuf.ContentType}");
    }
}
