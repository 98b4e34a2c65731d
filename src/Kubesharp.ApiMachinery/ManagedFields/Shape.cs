using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiMachinery.ManagedFields;

/// <summary>
/// How field management sees one value: its schema type plus the metadata on the field holding it. Values
/// without schema (unknown fields, custom resources without one) are "deduced": objects are granular, lists atomic.
/// </summary>
internal readonly record struct Shape(TypeSchema? Type, FieldSchema? Field)
{
    public bool IsDeduced => Type is null || Type.Kind == SchemaKind.Any;

    public bool IsAtomicObject =>
        !IsDeduced && (Type!.Kind is not (SchemaKind.Object or SchemaKind.Map)
            || string.Equals(Field?.MapType ?? Type.MapType, "atomic", StringComparison.Ordinal));

    /// <summary>The list relationship: "atomic", "set" or "map".</summary>
    public string ListType
    {
        get
        {
            if (IsDeduced || Type!.Kind != SchemaKind.Array)
            {
                return "atomic";
            }

            var listType = Field?.ListType ?? (Type.MapType is "atomic" or "set" or "map" ? Type.MapType : null);
            if (listType is not null)
            {
                return listType == "map" && ListKeys.Count == 0 ? "atomic" : listType;
            }

            if (!(Field?.PatchStrategy ?? "").Split(',', StringSplitOptions.TrimEntries).Contains("merge", StringComparer.Ordinal))
            {
                return "atomic";
            }

            return string.IsNullOrEmpty(Field?.PatchMergeKey) ? "set" : "map";
        }
    }

    public IReadOnlyList<string> ListKeys =>
        Field is null ? []
        : Field.ListMapKeys.Count > 0 ? Field.ListMapKeys
        : string.IsNullOrEmpty(Field.PatchMergeKey) ? [] : [Field.PatchMergeKey];

    public Shape Element => new(Type?.Items, null);

    public Shape Child(string name)
    {
        if (IsDeduced)
        {
            return default;
        }

        return Type!.Kind switch
        {
            SchemaKind.Object when Type.Properties.TryGetValue(name, out var field) => new Shape(field.Type, field),
            SchemaKind.Map => new Shape(Type.Items, null),
            _ => default,
        };
    }

    /// <summary>True for a field the schema declares on a struct (as opposed to a map key or unknown field).</summary>
    public bool IsDeclaredField(string name) =>
        !IsDeduced && Type!.Kind == SchemaKind.Object && Type.Properties.ContainsKey(name);

    /// <summary>The child shape for a path element (fields by name, list items by element type).</summary>
    public Shape Child(PathElement element) => element.IsField ? Child(element.FieldName) : Element;

    public NodeMode Mode(JsonNode? value) => value switch
    {
        JsonObject when IsDeduced || !IsAtomicObject => NodeMode.Fields,
        JsonArray when !IsDeduced && Type!.Kind == SchemaKind.Array && ListType != "atomic" => NodeMode.List,
        _ => NodeMode.Leaf,
    };
}

/// <summary>How a value is walked: as a leaf, as named fields, or as list items with identities.</summary>
internal enum NodeMode
{
    Leaf,
    Fields,
    List,
}
