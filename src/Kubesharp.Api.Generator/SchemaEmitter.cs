using System.Text;
using System.Text.Json;

namespace Kubesharp.Api.Generator;

/// <summary>
/// Writes the structural schema of every definition (interface facts only: shapes, formats, required
/// properties, patch and list metadata, group-version-kinds) as a compact JSON resource that
/// Kubesharp.Api embeds and loads into the ApiMachinery schema model.
/// </summary>
internal sealed class SchemaEmitter(SpecDefinitions definitions, GeneratedOutput output)
{
    private static readonly string[] FieldExtensions =
    [
        "x-kubernetes-patch-strategy",
        "x-kubernetes-patch-merge-key",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type",
    ];

    public void Emit()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            foreach (var d in definitions.All.Values)
            {
                w.WritePropertyName(d.Name);
                WriteDefinition(w, d);
            }

            w.WriteEndObject();
        }

        output.Add("src/Kubesharp.Api/ApiSchema.g.json", Encoding.UTF8.GetString(stream.ToArray()) + "\n");
    }

    private static void WriteDefinition(Utf8JsonWriter w, Definition d)
    {
        var s = d.Schema;
        w.WriteStartObject();
        var (kind, format) = d.Mapping switch
        {
            DefinitionMapping.Json => ("any", null),
            DefinitionMapping.Record => ("object", null),
            _ when d.TypeName == "IntOrString" => ("int-or-string", "int-or-string"),
            _ => ("string", s.TryGetProperty("format", out var f) ? f.GetString() : null),
        };
        w.WriteString("kind", kind);
        if (format is not null)
        {
            w.WriteString("format", format);
        }

        if (s.TryGetProperty("required", out var required))
        {
            w.WriteStartArray("required");
            foreach (var r in required.EnumerateArray().Select(r => r.GetString()!).Order(StringComparer.Ordinal))
            {
                w.WriteStringValue(r);
            }

            w.WriteEndArray();
        }

        if (s.TryGetProperty("x-kubernetes-map-type", out var mapType))
        {
            w.WriteString("mapType", mapType.GetString());
        }

        if (d.GroupVersionKinds.Count > 0)
        {
            w.WriteStartArray("gvk");
            foreach (var g in d.GroupVersionKinds)
            {
                w.WriteStartArray();
                w.WriteStringValue(g.Group);
                w.WriteStringValue(g.Version);
                w.WriteStringValue(g.Kind);
                w.WriteEndArray();
            }

            w.WriteEndArray();
        }

        if (d.Mapping == DefinitionMapping.Record && d.Properties.Any())
        {
            w.WriteStartObject("properties");
            foreach (var (name, property) in d.Properties.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                w.WriteStartObject(name);
                w.WritePropertyName("type");
                WriteType(w, property);
                foreach (var extension in FieldExtensions)
                {
                    if (property.TryGetProperty(extension, out var value))
                    {
                        w.WritePropertyName(extension["x-kubernetes-".Length..]);
                        value.WriteTo(w);
                    }
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteType(Utf8JsonWriter w, JsonElement schema)
    {
        if (schema.TryGetProperty("$ref", out _))
        {
            w.WriteStringValue(SpecDefinitions.RefName(schema));
            return;
        }

        w.WriteStartObject();
        var type = schema.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "array":
                w.WriteString("kind", "array");
                w.WritePropertyName("items");
                WriteType(w, schema.GetProperty("items"));
                break;
            case "object" when schema.TryGetProperty("additionalProperties", out var ap) && ap.ValueKind == JsonValueKind.Object:
                w.WriteString("kind", "map");
                w.WritePropertyName("items");
                WriteType(w, ap);
                break;
            case "string" or "integer" or "number" or "boolean":
                w.WriteString("kind", schema.TryGetProperty("format", out var f) && f.GetString() == "int-or-string" ? "int-or-string" : type);
                if (schema.TryGetProperty("format", out var format))
                {
                    w.WriteString("format", format.GetString());
                }

                break;
            default:
                w.WriteString("kind", "any");
                break;
        }

        if (schema.TryGetProperty("enum", out var values))
        {
            w.WritePropertyName("enum");
            values.WriteTo(w);
        }

        w.WriteEndObject();
    }
}
