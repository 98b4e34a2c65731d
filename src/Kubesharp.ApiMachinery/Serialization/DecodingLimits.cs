namespace Kubesharp.ApiMachinery.Serialization;

/// <summary>Bounds on decoded request bodies, so hostile input is rejected before it costs memory or stack.</summary>
public sealed record DecodingLimits
{
    public static DecodingLimits Default { get; } = new();

    /// <summary>Deepest nesting of objects and arrays accepted.</summary>
    public int MaxDepth { get; init; } = 1000;

    /// <summary>Most JSON values one decoded document may hold, counting those produced by alias expansion.</summary>
    public long MaxNodes { get; init; } = 1_000_000;

    /// <summary>Most values alias expansion may produce in one document (YAML "billion laughs" defence).</summary>
    public long MaxAliasExpansionNodes { get; init; } = 100_000;

    /// <summary>Most documents in one multi-document YAML stream.</summary>
    public int MaxDocuments { get; init; } = 10_000;
}
