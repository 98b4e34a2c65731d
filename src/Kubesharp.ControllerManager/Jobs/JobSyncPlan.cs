using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.Jobs;

/// <summary>
/// What one reconcile of a Job does, in order: write <see cref="Interim"/> (finished pods recorded as uncounted)
/// if any, remove the tracking finalizer from <see cref="RemoveFinalizers"/>, delete <see cref="Delete"/>, create
/// one pod per entry of <see cref="Create"/>, write <see cref="Status"/>, record <see cref="Events"/>.
/// </summary>
internal sealed record JobSyncPlan
{
    public required JobStatus Status { get; init; }

    public JobStatus? Interim { get; init; }

    public IReadOnlyList<Pod> RemoveFinalizers { get; init; } = [];

    public IReadOnlyList<Pod> Delete { get; init; } = [];

    /// <summary>Pods to create: the completion index (null for NonIndexed Jobs) and the index's earlier failures.</summary>
    public IReadOnlyList<(int? Index, int FailureCount)> Create { get; init; } = [];

    public IReadOnlyList<ControllerEvent> Events { get; init; } = [];

    /// <summary>Look again then: a backoff or an active deadline runs out.</summary>
    public TimeSpan? RequeueAfter { get; init; }
}
