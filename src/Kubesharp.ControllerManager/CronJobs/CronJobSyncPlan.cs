using Kubesharp.Api.Batch.V1;

namespace Kubesharp.ControllerManager.CronJobs;

/// <summary>
/// What one reconcile of a CronJob does, in order: delete <see cref="Replace"/> (Replace policy), create
/// <see cref="Create"/> (then added to the active list), write <see cref="Status"/>, delete <see cref="Prune"/>
/// (history limits), record <see cref="Events"/>.
/// </summary>
internal sealed record CronJobSyncPlan
{
    public required CronJobStatus Status { get; init; }

    public IReadOnlyList<Job> Replace { get; init; } = [];

    public Job? Create { get; init; }

    public IReadOnlyList<Job> Prune { get; init; } = [];

    public IReadOnlyList<ControllerEvent> Events { get; init; } = [];

    /// <summary>The next schedule time (plus a little), when there is one to wait for.</summary>
    public TimeSpan? RequeueAfter { get; init; }
}
