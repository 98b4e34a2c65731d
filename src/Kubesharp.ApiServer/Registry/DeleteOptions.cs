namespace Kubesharp.ApiServer.Registry;

/// <summary>The parts of metav1.DeleteOptions the registry honours.</summary>
internal sealed record DeleteOptions
{
    /// <summary>Foreground, Background or Orphan; null = the resource's default (Background).</summary>
    public string? PropagationPolicy { get; init; }

    public long? GracePeriodSeconds { get; init; }

    public string? PreconditionUid { get; init; }

    public string? PreconditionResourceVersion { get; init; }

    public bool DryRun { get; init; }

    /// <summary>ignoreStoreReadErrorWithClusterBreakingPotential: delete an object whose stored value cannot be read.</summary>
    public bool IgnoreStoreReadError { get; init; }
}
