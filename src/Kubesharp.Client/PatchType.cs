namespace Kubesharp.Client;

public enum PatchType
{
    /// <summary>RFC 6902 JSON patch.</summary>
    Json,

    /// <summary>RFC 7386 JSON merge patch.</summary>
    Merge,

    /// <summary>Kubernetes strategic merge patch.</summary>
    StrategicMerge,

    /// <summary>Server-side apply.</summary>
    Apply,
}
