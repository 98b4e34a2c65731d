namespace Kubesharp.Client.Informers;

public sealed record SharedInformerOptions
{
    /// <summary>Watch one namespace; null watches all.</summary>
    public string? Namespace { get; init; }

    public string? LabelSelector { get; init; }

    public string? FieldSelector { get; init; }

    /// <summary>How often every cached object is redelivered as an update; zero disables resync.</summary>
    public TimeSpan ResyncPeriod { get; init; }

    /// <summary>Page size of the initial list and relists.</summary>
    public long PageSize { get; init; } = 500;

    /// <summary>
    /// Drop metadata.managedFields before caching (as kube-controller-manager's informers do): often half an
    /// object's metadata. Writes from such a cache keep the stored ones: an update or patch that leaves
    /// managedFields out (or sends an empty list) keeps them on the server, as upstream's does.
    /// </summary>
    public bool TrimManagedFields { get; init; }
}
