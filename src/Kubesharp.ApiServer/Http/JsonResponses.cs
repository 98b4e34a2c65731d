using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>Writes JSON bodies and Status errors.</summary>
internal static class JsonResponses
{
    public const string Json = "application/json";

    public static async Task WriteAsync(HttpContext context, int statusCode, JsonNode body, string contentType = Json)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = contentType;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            body.WriteTo(writer);
        }

        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    public static async Task WriteRawAsync(HttpContext context, int statusCode, ReadOnlyMemory<byte> body, string contentType = Json)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    public static Task WriteStatusAsync(HttpContext context, StatusError error)
    {
        if (error.RetryAfterSeconds is { } retry)
        {
            context.Response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return WriteStatusBodyAsync(context, error.Code, error.ToStatus());
    }

    /// <summary>
    /// A Status in kube-apiserver's bytes (Go's encoder): quotes as \", non-ASCII as UTF-8, &lt; &gt; &amp; as \u003c \u003e
    /// \u0026, and a trailing newline; clients and tests compare these messages.
    /// </summary>
    public static async Task WriteStatusBodyAsync(HttpContext context, int statusCode, JsonNode status)
    {
        ArgumentNullException.ThrowIfNull(status);
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = Json;
        var bytes = GoJson(status);
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>JSON as Go's encoding/json writes it, with its trailing newline.</summary>
    public static byte[] GoJson(JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            node.WriteTo(writer);
        }

        // These three appear only inside strings, so replacing the bytes escapes exactly what Go escapes.
        var output = new List<byte>(buffer.WrittenCount + 16);
        foreach (var b in buffer.WrittenSpan)
        {
            switch (b)
            {
                case (byte)'<': output.AddRange("\\u003c"u8); break;
                case (byte)'>': output.AddRange("\\u003e"u8); break;
                case (byte)'&': output.AddRange("\\u0026"u8); break;
                default: output.Add(b); break;
            }
        }

        output.Add((byte)'\n');
        return [.. output];
    }

    public static JsonObject Success(string? name = null, string? group = null, string? kind = null, string? uid = null)
    {
        var details = new JsonObject();
        if (name is not null)
        {
            details["name"] = name;
        }

        if (!string.IsNullOrEmpty(group))
        {
            details["group"] = group;
        }

        if (kind is not null)
        {
            details["kind"] = kind;
        }

        if (uid is not null)
        {
            details["uid"] = uid;
        }

        return new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        };
    }
}
