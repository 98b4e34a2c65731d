namespace Kubesharp.Client;

/// <summary>Query parameters of list and watch (metav1.ListOptions).</summary>
public sealed record ListOptions
{
    public string? LabelSelector { get; init; }

    public string? FieldSelector { get; init; }

    /// <summary>Page size; 0 asks for everything at once.</summary>
    public long Limit { get; init; }

    public string? Continue { get; init; }

    public string? ResourceVersion { get; init; }

    /// <summary>NotOlderThan or Exact.</summary>
    public string? ResourceVersionMatch { get; init; }

    public long? TimeoutSeconds { get; init; }

    public bool AllowWatchBookmarks { get; init; }

    public bool? SendInitialEvents { get; init; }
}
