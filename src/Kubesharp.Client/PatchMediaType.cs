namespace Kubesharp.Client;

/// <summary>The request media type of each patch type.</summary>
internal static class PatchMediaType
{
    public static string Of(PatchType type) => type switch
    {
        PatchType.Json => "application/json-patch+json",
        PatchType.Merge => "application/merge-patch+json",
        PatchType.StrategicMerge => "application/strategic-merge-patch+json",
        PatchType.Apply => "application/apply-patch+yaml",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
