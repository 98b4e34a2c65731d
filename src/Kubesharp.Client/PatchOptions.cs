namespace Kubesharp.Client;

public sealed record PatchOptions
{
    public string? FieldManager { get; init; }

    /// <summary>Server-side apply: take ownership of conflicting fields.</summary>
    public bool Force { get; init; }
}
