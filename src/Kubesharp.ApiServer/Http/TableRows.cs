using System.Globalization;
using System.Text.Json;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Registry;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>
/// A resource's objects as meta.k8s.io/v1 Table: the definition's columns and each object's cells, with what the
/// request asked each row to carry of its object (includeObject: Metadata, the default, Object or None).
/// </summary>
internal sealed class TableRows(ResourceDefinition definition, string includeObject)
{
    public static TableRows For(HttpContext context, ResourceDefinition definition) =>
        new(definition, (string?)context.Request.Query["includeObject"] ?? "Metadata");

    /// <summary>A whole Table of a few objects (one object's GET, a watch event), columns first when asked.</summary>
    public void WriteTable(Utf8JsonWriter writer, IEnumerable<CachedObject> items, long revision, bool withColumns)
    {
        writer.WriteStartObject();
        writer.WriteString("kind", "Table");
        writer.WriteString("apiVersion", "meta.k8s.io/v1");
        writer.WriteStartObject("metadata");
        writer.WriteString("resourceVersion", revision.ToString(CultureInfo.InvariantCulture));
        writer.WriteEndObject();
        if (withColumns)
        {
            WriteColumns(writer);
        }

        writer.WriteStartArray("rows");
        foreach (var item in items)
        {
            WriteRow(writer, item);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public void WriteColumns(Utf8JsonWriter writer)
    {
        writer.WriteStartArray("columnDefinitions");
        foreach (var column in definition.Columns)
        {
            writer.WriteStartObject();
            writer.WriteString("name", column.Name);
            writer.WriteString("type", column.Type);
            writer.WriteString("format", column.Format);
            writer.WriteString("description", column.Description);
            writer.WriteNumber("priority", column.Priority);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    public void WriteRow(Utf8JsonWriter writer, CachedObject item)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("cells");
        definition.Cells(item.Root).WriteTo(writer);
        switch (includeObject)
        {
            case "Object":
                writer.WritePropertyName("object");
                writer.WriteRawValue(item.Json, skipInputValidation: true);
                break;
            case "None":
                break;
            default:
                writer.WritePropertyName("object");
                ListStreamWriter.WritePartialMetadata(writer, item);
                break;
        }

        writer.WriteEndObject();
    }
}
