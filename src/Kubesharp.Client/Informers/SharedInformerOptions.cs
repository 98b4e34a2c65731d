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
    /// object's metadata. Only for readers that patch rather than update: an update sent from such a cache
    /// would drop the stored managedFields here.
    /// </summary>
    public bool TrimManagedFields { get; init; }
}
