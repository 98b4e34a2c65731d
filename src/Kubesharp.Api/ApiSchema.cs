using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.Api;

/// <summary>
/// The structural schema of every definition of the built-in API (from the reference spec: shapes,
/// formats, required properties, patch strategies, merge keys, list and map types, group-version-kinds).
/// Named definitions are shared instances, so recursive schemas (JSONSchemaProps) are cyclic graphs.
/// </summary>
public static class ApiSchema
{
    private static readonly Lazy<Model> Loaded = new(Load);

    /// <summary>Every definition by its spec name (io.k8s.api.core.v1.Pod).</summary>
    public static IReadOnlyDictionary<string, TypeSchema> Definitions => Loaded.Value.Definitions;

    public static bool TryGetDefinition(string name, [NotNullWhen(true)] out TypeSchema? schema) =>
        Loaded.Value.Definitions.TryGetValue(name, out schema);

    /// <summary>The definition serving a group-version-kind, or null when the API has no such kind.</summary>
    public static TypeSchema? ForKind(GroupVersionKind kind) =>
        Loaded.Value.Kinds.TryGetValue(kind, out var schema) ? schema : null;

    private sealed record Model(IReadOnlyDictionary<string, TypeSchema> Definitions, IReadOnlyDictionary<GroupVersionKind, TypeSchema> Kinds);

    private static Model Load()
    {
        using var stream = typeof(ApiSchema).Assembly.GetManifestResourceStream("Kubesharp.Api.ApiSchema.json")
            ?? throw new InvalidOperationException("the embedded API schema is missing");
        using var document = JsonDocument.Parse(stream);

        var definitions = new Dictionary<string, TypeSchema>(StringComparer.Ordinal);
        var properties = new Dictionary<string, Dictionary<string, FieldSchema>>(StringComparer.Ordinal);
        var kinds = new Dictionary<GroupVersionKind, TypeSchema>();
        foreach (var entry in document.RootElement.EnumerateObject())
        {
            var d = entry.Value;
            var fields = new Dictionary<string, FieldSchema>(StringComparer.Ordinal);
            var gvks = d.TryGetProperty("gvk", out var g)
                ? g.EnumerateArray().Select(a => new GroupVersionKind(a[0].GetString()!, a[1].GetString()!, a[2].GetString()!)).ToArray()
                : [];
            var schema = new TypeSchema
            {
                Name = entry.Name,
                Kind = ParseKind(d.GetProperty("kind").GetString()!),
                Format = OptionalString(d, "format"),
                Properties = fields,
                Required = Strings(d, "required"),
                MapType = OptionalString(d, "mapType"),
                GroupVersionKinds = gvks,
            };
            definitions.Add(entry.Name, schema);
            properties.Add(entry.Name, fields);
            foreach (var gvk in gvks)
            {
                kinds.TryAdd(gvk, schema);
            }
        }

        // Second pass: every named definition exists, so references (also cyclic ones) resolve to shared instances.
        foreach (var entry in document.RootElement.EnumerateObject())
        {
            if (!entry.Value.TryGetProperty("properties", out var props))
            {
                continue;
            }

            var fields = properties[entry.Name];
            foreach (var p in props.EnumerateObject())
            {
                fields.Add(p.Name, new FieldSchema
                {
                    Name = p.Name,
                    Type = ParseType(p.Value.GetProperty("type"), definitions),
                    PatchStrategy = OptionalString(p.Value, "patch-strategy"),
                    PatchMergeKey = OptionalString(p.Value, "patch-merge-key"),
                    ListType = OptionalString(p.Value, "list-type"),
                    ListMapKeys = Strings(p.Value, "list-map-keys"),
                    MapType = OptionalString(p.Value, "map-type"),
                });
            }
        }

        return new Model(definitions, kinds);
    }

    private static TypeSchema ParseType(JsonElement type, Dictionary<string, TypeSchema> definitions)
    {
        if (type.ValueKind == JsonValueKind.String)
        {
            return definitions[type.GetString()!];
        }

        return new TypeSchema
        {
            Kind = ParseKind(type.GetProperty("kind").GetString()!),
            Format = OptionalString(type, "format"),
            Items = type.TryGetProperty("items", out var items) ? ParseType(items, definitions) : null,
            Enum = type.TryGetProperty("enum", out _) ? Strings(type, "enum") : null,
        };
    }

    private static SchemaKind ParseKind(string kind) => kind switch
    {
        "object" => SchemaKind.Object,
        "array" => SchemaKind.Array,
        "map" => SchemaKind.Map,
        "string" => SchemaKind.String,
        "integer" => SchemaKind.Integer,
        "number" => SchemaKind.Number,
        "boolean" => SchemaKind.Boolean,
        "int-or-string" => SchemaKind.IntOrString,
        "any" => SchemaKind.Any,
        _ => throw new InvalidOperationException($"unknown schema kind {kind}"),
    };

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.GetString() : null;

    private static string[] Strings(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.EnumerateArray().Select(v => v.GetString()!).ToArray() : [];
}
