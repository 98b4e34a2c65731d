using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiMachinery.Patching;

/// <summary>What the schema says about one field for strategic merge patch: its type, strategy and merge key.</summary>
internal readonly record struct PatchMeta(TypeSchema? Type, bool Merge, bool Replace, string? MergeKey)
{
    public static PatchMeta Unknown => new(null, false, false, null);

    /// <summary>The metadata of <paramref name="key"/> inside a value of type <paramref name="parent"/>.</summary>
    public static PatchMeta Lookup(TypeSchema? parent, string key)
    {
        if (parent is null)
        {
            return Unknown;
        }

        switch (parent.Kind)
        {
            case SchemaKind.Object when parent.Properties.TryGetValue(key, out var field):
                var strategies = (field.PatchStrategy ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                return new PatchMeta(
                    Resolve(field.Type),
                    strategies.Contains("merge", StringComparer.Ordinal),
                    strategies.Contains("replace", StringComparer.Ordinal),
                    string.IsNullOrEmpty(field.PatchMergeKey) ? null : field.PatchMergeKey);
            case SchemaKind.Map:
                return new PatchMeta(Resolve(parent.Items), false, false, null);
            default:
                return Unknown;
        }
    }

    /// <summary>Schemas of kind Any carry no structure: treat them as unknown.</summary>
    public static TypeSchema? Resolve(TypeSchema? type) => type is { Kind: SchemaKind.Any } ? null : type;
}
