namespace Kubesharp.Scheduler;

/// <summary>
/// Counters of a running scheduler since it started: attempts and their time in the algorithm, and bindings and
/// their time in the API, so a benchmark can tell scheduling cost from binding cost.
/// </summary>
public sealed record SchedulerStatistics
{
    /// <summary>Scheduling cycles run (one per popped pod).</summary>
    public long Attempts { get; init; }

    /// <summary>Attempts that found no node.</summary>
    public long Unschedulable { get; init; }

    /// <summary>Successful pods/binding calls.</summary>
    public long Bound { get; init; }

    public long BindFailures { get; init; }

    /// <summary>Time spent in the scheduling cycle (snapshot, filters, scores, verdict), summed over attempts.</summary>
    public TimeSpan AlgorithmTime { get; init; }

    /// <summary>Time from a binding call's start to its response, summed over bindings (they overlap).</summary>
    public TimeSpan BindTime { get; init; }

    /// <summary>Time from a pod's arrival in the queue (its informer event) to its first attempt, summed over first attempts.</summary>
    public TimeSpan QueueWait { get; init; }

    /// <summary>Attempts that were a pod's first.</summary>
    public long FirstAttempts { get; init; }

    /// <summary>Largest number of bindings in flight at once.</summary>
    public int MaxBindsInFlight { get; init; }
}
