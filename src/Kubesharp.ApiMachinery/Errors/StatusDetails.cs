namespace Kubesharp.ApiMachinery.Errors;

/// <summary>Extra data of a failed Status (metav1.StatusDetails).</summary>
public sealed record StatusDetails
{
    public string Name { get; init; } = "";

    public string Group { get; init; } = "";

    /// <summary>The kind, or for resource-scoped errors the resource (upstream puts the resource here too).</summary>
    public string Kind { get; init; } = "";

    public string Uid { get; init; } = "";

    public IReadOnlyList<StatusCause> Causes { get; init; } = [];

    public int RetryAfterSeconds { get; init; }
}
