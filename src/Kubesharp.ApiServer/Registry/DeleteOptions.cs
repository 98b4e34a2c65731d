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
}
