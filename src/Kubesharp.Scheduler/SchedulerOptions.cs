namespace Kubesharp.Scheduler;

public sealed record SchedulerOptions
{
    /// <summary>Pods naming this scheduler in spec.schedulerName are scheduled.</summary>
    public string SchedulerName { get; init; } = "default-scheduler";

    /// <summary>0 = upstream's adaptive percentage of nodes to find feasible before scoring.</summary>
    public int PercentageOfNodesToScore { get; init; }

    /// <summary>Bindings in flight at once.</summary>
    public int BindConcurrency { get; init; } = 32;

    /// <summary>Write the verdict of failed attempts to the pod's <see cref="SchedulingVerdict.AnnotationKey"/> annotation.</summary>
    public bool RecordVerdictAnnotation { get; init; } = true;

    /// <summary>Emit a Normal "Scheduled" event per bound pod, as upstream does.</summary>
    public bool RecordScheduledEvents { get; init; } = true;
}
