namespace Kubesharp.Client;

/// <summary>One page of a list: its items and list metadata.</summary>
public sealed record ObjectList<T>(IReadOnlyList<T> Items, string ResourceVersion, string? Continue, long? RemainingItemCount)
{
    /// <summary>Objects of the page that do not fit the type: left out of <see cref="Items"/>.</summary>
    public IReadOnlyList<UndecodableObject> Undecodable { get; init; } = [];
}
