using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>Reads request bodies within the size limit and decodes them as JSON objects.</summary>
internal static class RequestBody
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 100, AllowDuplicateProperties = false };

    public static async Task<byte[]> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw StatusError.TooLarge();
        }

        try
        {
            // Clients send the length (client-go and kubectl do): the body is read straight into an array of that size.
            return request.ContentLength is { } length
                ? await ReadDeclaredAsync(request.Body, (int)length, cancellationToken).ConfigureAwait(false)
                : await ReadChunkedAsync(request.Body, limit, cancellationToken).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw StatusError.TooLarge();
        }
    }

    private static async Task<byte[]> ReadDeclaredAsync(Stream body, int length, CancellationToken cancellationToken)
    {
        var bytes = new byte[length];
        var filled = 0;
        int read;
        while (filled < length && (read = await body.ReadAsync(bytes.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
        {
            filled += read;
        }

        return filled == length ? bytes : bytes[..filled];
    }

    private static async Task<byte[]> ReadChunkedAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw StatusError.TooLarge();
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    public static async Task<JsonObject> ReadObjectAsync(HttpRequest request, int limit, CancellationToken cancellationToken) =>
        (await ReadParsedAsync(request, limit, cancellationToken).ConfigureAwait(false)).Object;

    /// <summary>
    /// The body as an object and, when it was JSON, the document the object reads lazily: checks that only read the
    /// body walk the document, and the object is expanded only where it is changed.
    /// </summary>
    public static async Task<ParsedBody> ReadParsedAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        var bytes = await ReadAsync(request, limit, cancellationToken).ConfigureAwait(false);
        var type = MediaTypes.BaseType(request.ContentType);
        if (type is "application/yaml" or "application/x-yaml" or "text/yaml")
        {
            return new ParsedBody(YamlBody.ToJsonObject(bytes), null);
        }

        if (type == MediaTypes.ApplyPatch)
        {
            return new ParsedBody(YamlBody.ToJsonObject(bytes), null);
        }

        if (ProtobufBody.IsProtobuf(type))
        {
            return new ParsedBody(ProtobufBody.ToJsonObject(bytes), null);
        }

        if (type.Length > 0 && type != "application/json" && type != "*/*" && !type.EndsWith("+json", StringComparison.Ordinal))
        {
            throw StatusError.UnsupportedMediaType(request.ContentType ?? string.Empty);
        }

        return ParseBody(bytes);
    }

    public static JsonObject ParseObject(ReadOnlySpan<byte> bytes) => ParseBody(bytes).Object;

    private static ParsedBody ParseBody(ReadOnlySpan<byte> bytes)
    {
        if (Kubesharp.Api.Protobuf.ProtobufEnvelope.HasMagic(bytes))
        {
            return new ParsedBody(ProtobufBody.ToJsonObject(bytes), null);
        }

        var element = ParseElement(bytes);
        return element.ValueKind == JsonValueKind.Object
            ? new ParsedBody(JsonObject.Create(element)!, element)
            : throw NotAnObject(bytes);
    }

    private static StatusError NotAnObject(ReadOnlySpan<byte> bytes) =>
        StatusError.BadRequest("Object 'Kind' is missing in '" + System.Text.Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 200)]) + "'");

    public static JsonNode? Parse(ReadOnlySpan<byte> bytes)
    {
        var element = ParseElement(bytes);
        return element.ValueKind switch
        {
            JsonValueKind.Object => JsonObject.Create(element),
            JsonValueKind.Array => JsonArray.Create(element),
            JsonValueKind.Null => null,
            _ => JsonValue.Create(element),
        };
    }

    private static JsonElement ParseElement(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            throw StatusError.BadRequest("the request body is empty");
        }

        Kubesharp.ApiMachinery.Serialization.TextEncodingCheck.EnsureJsonText(bytes);
        try
        {
            return JsonElement.Parse(bytes, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw StatusError.BadRequest($"json parse error: {ex.Message}");
        }
    }
}
