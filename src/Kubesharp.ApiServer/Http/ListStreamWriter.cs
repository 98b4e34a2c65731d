using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Caching;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>
/// Writes a list (the resource's List kind or a PartialObjectMetadataList) straight into the response as
/// it encodes, a few tens of kilobytes at a time: the cached objects' bytes are copied out, never gathered into
/// one buffer, so many concurrent lists of large collections cost little more memory than one.
/// </summary>
internal static class ListStreamWriter
{
    private const int FlushBytes = 32 * 1024;
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    public static async Task WriteAsync(HttpContext context, ApiResource resource, IReadOnlyList<CachedObject> items, ResponseForm form, long revision, string? next, long? remaining)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = form switch
        {
            ResponseForm.PartialObjectMetadata => "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
            _ => JsonResponses.Json,
        };
        var body = context.Response.BodyWriter;
        var cancellationToken = context.RequestAborted;
        await using var writer = new Utf8JsonWriter(body, WriterOptions);
        long flushed = 0;
        writer.WriteStartObject();
        switch (form)
        {
            case ResponseForm.PartialObjectMetadata:
                writer.WriteString("kind", "PartialObjectMetadataList");
                writer.WriteString("apiVersion", "meta.k8s.io/v1");
                break;
            default:
                writer.WriteString("kind", resource.ListKind);
                writer.WriteString("apiVersion", resource.ApiVersion);
                break;
        }

        writer.WriteStartObject("metadata");
        writer.WriteString("resourceVersion", revision.ToString(CultureInfo.InvariantCulture));
        if (next is not null)
        {
            writer.WriteString("continue", next);
        }

        if (remaining is { } r)
        {
            writer.WriteNumber("remainingItemCount", r);
        }

        writer.WriteEndObject();
        writer.WriteStartArray("items");
        foreach (var item in items)
        {
            switch (form)
            {
                case ResponseForm.PartialObjectMetadata:
                    PartialMetadata(item).WriteTo(writer);
                    break;
                default:
                    writer.WriteRawValue(item.Json, skipInputValidation: true);
                    break;
            }

            if (writer.BytesCommitted + writer.BytesPending - flushed >= FlushBytes)
            {
                writer.Flush();
                flushed = writer.BytesCommitted;
                await FlushAsync(body, cancellationToken).ConfigureAwait(false);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        await FlushAsync(body, cancellationToken).ConfigureAwait(false);
    }

    private static JsonObject PartialMetadata(CachedObject obj) => new()
    {
        ["kind"] = "PartialObjectMetadata",
        ["apiVersion"] = "meta.k8s.io/v1",
        ["metadata"] = JsonNode.Parse(obj.Metadata.GetRawText()),
    };

    private static async ValueTask FlushAsync(PipeWriter body, CancellationToken cancellationToken)
    {
        var result = await body.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled || result.IsCompleted)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }
}
