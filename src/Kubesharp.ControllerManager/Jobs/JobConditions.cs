using Kubesharp.Api.Batch.V1;

namespace Kubesharp.ControllerManager.Jobs;

/// <summary>Upstream's Job condition types and reasons, and how a condition is set on a status.</summary>
internal static class JobConditions
{
    public const string Complete = "Complete";
    public const string Failed = "Failed";
    public const string SuccessCriteriaMet = "SuccessCriteriaMet";
    public const string FailureTarget = "FailureTarget";
    public const string Suspended = "Suspended";

    public const string BackoffLimitExceeded = "BackoffLimitExceeded";
    public const string DeadlineExceeded = "DeadlineExceeded";
    public const string PodFailurePolicy = "PodFailurePolicy";
    public const string FailedIndexes = "FailedIndexes";
    public const string MaxFailedIndexesExceeded = "MaxFailedIndexesExceeded";
    public const string CompletionsReached = "CompletionsReached";
    public const string SuccessPolicy = "SuccessPolicy";
    public const string JobSuspended = "JobSuspended";
    public const string JobResumed = "JobResumed";

    public static JobCondition? Get(JobStatus? status, string type) =>
        status?.Conditions?.FirstOrDefault(c => c.Type == type);

    public static bool IsTrue(JobStatus? status, string type) => Get(status, type)?.Status == "True";

    /// <summary>Complete or Failed: nothing more happens to the Job but the removal of its pods' finalizers.</summary>
    public static bool IsFinished(Job job) => IsTrue(job.Status, Complete) || IsTrue(job.Status, Failed);

    /// <summary>The condition that finished the Job, if any.</summary>
    public static JobCondition? Finished(Job job) =>
        job.Status?.Conditions?.FirstOrDefault(c => c.Type is Complete or Failed && c.Status == "True");

    /// <summary>
    /// Sets a condition as upstream does: a changed status moves the transition time, a changed reason or message
    /// alone keeps it; an unchanged condition is left as it is. Returns whether anything changed.
    /// </summary>
    public static bool Set(JobStatus status, string type, string conditionStatus, string reason, string message, DateTimeOffset now)
    {
        status.Conditions ??= [];
        var index = status.Conditions.FindIndex(c => c.Type == type);
        if (index < 0)
        {
            status.Conditions.Add(new JobCondition { Type = type, Status = conditionStatus, Reason = reason, Message = message, LastProbeTime = now, LastTransitionTime = now });
            return true;
        }

        var existing = status.Conditions[index];
        if (existing.Status == conditionStatus && existing.Reason == reason && existing.Message == message)
        {
            return false;
        }

        status.Conditions[index] = existing with
        {
            Status = conditionStatus,
            Reason = reason,
            Message = message,
            LastProbeTime = now,
            LastTransitionTime = existing.Status == conditionStatus ? existing.LastTransitionTime : now,
        };
        return true;
    }
}
