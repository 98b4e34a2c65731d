using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Caching;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>
/// Writes a list (the resource's List kind, a PartialObjectMetadataList or a Table) straight into the response as
/// it encodes, a few tens of kilobytes at a time: the cached objects' bytes are copied out, never gathered into
/// one buffer, so many concurrent lists of large collections cost little more memory than one.
/// </summary>
internal static class ListStreamWriter
{
    /// <summary>
    /// How much is written between flushes: each flush hands the bytes to the connection (an HTTP/2 frame write and
    /// a TLS record), so a 1,000-object list goes out in a few large pieces rather than many small ones, while
    /// concurrent lists still hold little memory each.
    /// </summary>
    private const int FlushBytes = 128 * 1024;
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>
    /// Writes the list in <paramref name="form"/>. A Table needs <paramref name="table"/>: the resource's columns and
    /// cells, and what each row carries of its object (includeObject: Metadata, Object or None).
    /// </summary>
    public static async Task WriteAsync(HttpContext context, ApiResource resource, IReadOnlyList<CachedObject> items, ResponseForm form, long revision, string? next, long? remaining, TableRows? table = null)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = form switch
        {
            ResponseForm.PartialObjectMetadata => "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
            ResponseForm.Table => MediaTypes.TableContentType,
            _ => JsonResponses.Json,
        };
        var body = context.Response.BodyWriter;
        var cancellationToken = context.RequestAborted;
        if (form == ResponseForm.Object)
        {
            await WriteItemsAsync(context, body, resource, items, revision, next, remaining, cancellationToken).ConfigureAwait(false);
            return;
        }

        await using var writer = new Utf8JsonWriter(body, WriterOptions);
        long flushed = 0;
        WriteHead(writer, resource, form, revision, next, remaining);
        if (form == ResponseForm.Table)
        {
            ArgumentNullException.ThrowIfNull(table);
            table.WriteColumns(writer);
        }

        writer.WriteStartArray(form == ResponseForm.Table ? "rows" : "items");
        foreach (var item in items)
        {
            switch (form)
            {
                case ResponseForm.PartialObjectMetadata:
                    WritePartialMetadata(writer, item);
                    break;
                case ResponseForm.Table:
                    table!.WriteRow(writer, item);
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

    /// <summary>
    /// The resource's List kind: the envelope, then each cached object's bytes copied as they are, with the length
    /// known in advance (a Content-Length, as for a single object).
    /// </summary>
    private static async Task WriteItemsAsync(HttpContext context, PipeWriter body, ApiResource resource, IReadOnlyList<CachedObject> items, long revision, string? next, long? remaining, CancellationToken cancellationToken)
    {
        var head = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(head, WriterOptions))
        {
            WriteHead(writer, resource, ResponseForm.Object, revision, next, remaining);
            writer.WritePropertyName("items");
        }

        long length = head.WrittenCount + 1 + Math.Max(items.Count - 1, 0) + 2;
        foreach (var item in items)
        {
            length += item.Json.Length;
        }

        context.Response.ContentLength = length;
        body.Write(head.WrittenSpan);
        body.Write("["u8);
        long unflushed = 0;
        for (var i = 0; i < items.Count; i++)
        {
            var json = items[i].Json;
            if (i > 0)
            {
                body.Write(","u8);
            }

            body.Write(json);
            unflushed += json.Length + 1;
            if (unflushed >= FlushBytes)
            {
                unflushed = 0;
                await FlushAsync(body, cancellationToken).ConfigureAwait(false);
            }
        }

        body.Write("]}"u8);
        await FlushAsync(body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The list's opening: kind, apiVersion and metadata (resourceVersion, continue, remainingItemCount).</summary>
    private static void WriteHead(Utf8JsonWriter writer, ApiResource resource, ResponseForm form, long revision, string? next, long? remaining)
    {
        writer.WriteStartObject();
        switch (form)
        {
            case ResponseForm.PartialObjectMetadata:
                writer.WriteString("kind", "PartialObjectMetadataList");
                writer.WriteString("apiVersion", "meta.k8s.io/v1");
                break;
            case ResponseForm.Table:
                writer.WriteString("kind", "Table");
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
    }

    /// <summary>An object as PartialObjectMetadata: its metadata's bytes copied as they are cached.</summary>
    public static void WritePartialMetadata(Utf8JsonWriter writer, CachedObject obj)
    {
        writer.WriteStartObject();
        writer.WriteString("kind", "PartialObjectMetadata");
        writer.WriteString("apiVersion", "meta.k8s.io/v1");
        writer.WritePropertyName("metadata");
        writer.WriteRawValue(obj.MetadataJson, skipInputValidation: true);
        writer.WriteEndObject();
    }

    private static async ValueTask FlushAsync(PipeWriter body, CancellationToken cancellationToken)
    {
        var result = await body.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled || result.IsCompleted)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }
}
