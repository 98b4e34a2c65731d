namespace Kubesharp.ApiMachinery.Schema;

/// <summary>
/// One node of the API's structural schema: what the spec says about a type, limited to interface facts
/// (shape, formats, patch strategy, merge keys, list and map types). Drives strategic merge patch,
/// server-side apply, unknown-field detection and the published OpenAPI documents.
/// </summary>
public sealed class TypeSchema
{
    /// <summary>Definition name (e.g. io.k8s.api.core.v1.PodSpec) for named types; null for inline ones.</summary>
    public string? Name { get; init; }

    public required SchemaKind Kind { get; init; }

    /// <summary>OpenAPI format (int32, int64, date-time, byte, int-or-string, …).</summary>
    public string? Format { get; init; }

    /// <summary>Properties of an <see cref="SchemaKind.Object"/>, by JSON name.</summary>
    public IReadOnlyDictionary<string, FieldSchema> Properties { get; init; } = new Dictionary<string, FieldSchema>();

    public IReadOnlyList<string> Required { get; init; } = [];

    /// <summary>Element type of an <see cref="SchemaKind.Array"/> or value type of a <see cref="SchemaKind.Map"/>.</summary>
    public TypeSchema? Items { get; set; }

    /// <summary>x-kubernetes-map-type / x-kubernetes-list-type on the type itself (atomic, granular, set, map).</summary>
    public string? MapType { get; init; }

    /// <summary>Enumerated string values, when the spec lists them.</summary>
    public IReadOnlyList<string>? Enum { get; init; }

    /// <summary>x-kubernetes-group-version-kind of a top-level kind.</summary>
    public IReadOnlyList<GroupVersionKind> GroupVersionKinds { get; init; } = [];
}

/// <summary>A property of an object schema, with the patch metadata that sits on the property.</summary>
public sealed class FieldSchema
{
    public required string Name { get; init; }

    /// <summary>The property's type; shared by reference for named definitions (schemas may be recursive).</summary>
    public required TypeSchema Type { get; set; }

    /// <summary>x-kubernetes-patch-strategy: merge, replace, retainKeys, or a comma-joined combination.</summary>
    public string? PatchStrategy { get; init; }

    /// <summary>x-kubernetes-patch-merge-key.</summary>
    public string? PatchMergeKey { get; init; }

    /// <summary>x-kubernetes-list-type: atomic, set or map.</summary>
    public string? ListType { get; init; }

    /// <summary>x-kubernetes-list-map-keys.</summary>
    public IReadOnlyList<string> ListMapKeys { get; init; } = [];

    /// <summary>x-kubernetes-map-type: atomic or granular.</summary>
    public string? MapType { get; init; }
}

public readonly record struct GroupVersionKind(string Group, string Version, string Kind)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public override string ToString() => $"{ApiVersion}, Kind={Kind}";
}
