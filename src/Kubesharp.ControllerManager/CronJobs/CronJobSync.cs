using System.Globalization;
using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.Jobs;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;

namespace Kubesharp.ControllerManager.CronJobs;

/// <summary>
/// Plans one reconcile of a CronJob as upstream's CronJob controller decides it: the active list follows the Jobs it
/// owns, the most recent missed schedule time starts a Job named <c>&lt;cronjob&gt;-&lt;minutes since epoch&gt;</c>
/// unless it is past the starting deadline, already started, or forbidden by the concurrency policy, and finished
/// Jobs beyond the history limits are deleted. A pure function of its inputs and the time.
/// </summary>
internal static class CronJobSync
{
    public const string ScheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp";

    /// <summary>How long after a schedule time the controller looks again, so the time has surely passed.</summary>
    public static readonly TimeSpan NextScheduleDelta = TimeSpan.FromMilliseconds(100);

    /// <param name="cronJob">The CronJob as cached (not changed).</param>
    /// <param name="jobs">The Jobs it controls.</param>
    public static CronJobSyncPlan Plan(CronJob cronJob, IReadOnlyList<Job> jobs, DateTimeOffset now)
    {
        var status = cronJob.Status is { } s ? ObjectCopy.Clone(s) : new CronJobStatus();
        var spec = cronJob.Spec ?? new CronJobSpec();
        var events = new List<ControllerEvent>();
        var active = status.Active ?? [];
        var byUid = jobs.Where(j => j.Metadata?.Uid is not null).ToDictionary(j => j.Metadata!.Uid!, StringComparer.Ordinal);

        foreach (var job in jobs)
        {
            var uid = job.Metadata?.Uid;
            var listed = active.Any(r => r.Uid == uid);
            var finished = JobConditions.Finished(job);
            if (!listed && finished is null)
            {
                events.Add(ControllerEvent.Warning("UnexpectedJob", $"Saw a job that the controller did not create or forgot: {job.Metadata?.Name}"));
            }
            else if (listed && finished is not null)
            {
                active.RemoveAll(r => r.Uid == uid);
                events.Add(ControllerEvent.Normal("SawCompletedJob", $"Saw completed job: {job.Metadata?.Name}, condition: {finished.Type}"));
            }

            if (finished?.Type == JobConditions.Complete && job.Status?.CompletionTime is { } completed &&
                (status.LastSuccessfulTime is null || completed > status.LastSuccessfulTime))
            {
                status.LastSuccessfulTime = completed;
            }
        }

        foreach (var missing in active.Where(r => r.Uid is null || !byUid.ContainsKey(r.Uid)).ToList())
        {
            active.Remove(missing);
            events.Add(ControllerEvent.Normal("MissingJob", $"Active job went missing: {missing.Name}"));
        }

        status.Active = active.Count > 0 ? active : null;
        var prune = HistoryToPrune(spec, jobs);
        CronJobSyncPlan Done(TimeSpan? requeue = null, Job? create = null, IReadOnlyList<Job>? replace = null) => new()
        {
            Status = status,
            Events = events,
            Prune = prune,
            Create = create,
            Replace = replace ?? [],
            RequeueAfter = requeue,
        };

        if (cronJob.Metadata?.DeletionTimestamp is not null)
        {
            return Done();
        }

        if (spec.TimeZone is { } zone && !TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
        {
            events.Add(ControllerEvent.Warning("UnknownTimeZone", $"invalid timeZone: \"{zone}\": unknown time zone {zone}"));
            return Done();
        }

        if (CronJobSchedule.TryParse(spec.Schedule, spec.TimeZone, out var error) is not { } schedule)
        {
            events.Add(ControllerEvent.Warning("UnparseableSchedule", $"unparseable schedule: \"{spec.Schedule}\" : {error}"));
            return Done();
        }

        if (spec.Suspend == true)
        {
            return Done();
        }

        var earliest = status.LastScheduleTime ?? cronJob.Metadata?.CreationTimestamp ?? now;
        if (spec.StartingDeadlineSeconds is { } deadlineSeconds && now.AddSeconds(-deadlineSeconds) > earliest)
        {
            earliest = now.AddSeconds(-deadlineSeconds);
        }

        var (scheduled, missed) = schedule.MostRecent(earliest, now);
        var next = NextIn(schedule, now);
        if (scheduled is not { } scheduledTime)
        {
            return Done(next);
        }

        if (missed > 100)
        {
            events.Add(ControllerEvent.Warning("TooManyMissedTimes", $"too many missed start times: {missed.ToString(CultureInfo.InvariantCulture)}. Set or decrease .spec.startingDeadlineSeconds or check clock skew"));
        }

        if (spec.StartingDeadlineSeconds is { } startingDeadline && scheduledTime.AddSeconds(startingDeadline) < now)
        {
            events.Add(ControllerEvent.Warning("MissSchedule", $"Missed scheduled time to start a job: {scheduledTime.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture)}"));
            return Done(next);
        }

        var name = JobName(cronJob, scheduledTime);
        if (active.Any(r => r.Name == name) || status.LastScheduleTime == scheduledTime)
        {
            return Done(next);
        }

        var replace = new List<Job>();
        if (spec.ConcurrencyPolicy == "Forbid" && active.Count > 0)
        {
            events.Add(ControllerEvent.Normal("JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid"));
            return Done(next);
        }

        if (spec.ConcurrencyPolicy == "Replace")
        {
            foreach (var reference in active.ToList())
            {
                if (reference.Uid is { } uid && byUid.TryGetValue(uid, out var running))
                {
                    replace.Add(running);
                }

                active.Remove(reference);
            }

            status.Active = active.Count > 0 ? active : null;
        }

        status.LastScheduleTime = scheduledTime;
        return Done(next, NewJob(cronJob, scheduledTime, schedule.Zone, spec.TimeZone is not null), replace);
    }

    public static string JobName(CronJob cronJob, DateTimeOffset scheduledTime) =>
        $"{cronJob.Metadata?.Name}-{(scheduledTime.ToUnixTimeSeconds() / 60).ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A Job from the CronJob's template, controlled by it, named and annotated after its schedule time.</summary>
    public static Job NewJob(CronJob cronJob, DateTimeOffset scheduledTime, TimeZoneInfo zone, bool zoneGiven)
    {
        var meta = cronJob.Metadata ?? new ObjectMeta();
        var template = cronJob.Spec?.JobTemplate;
        var annotations = template?.Metadata?.Annotations is { } a ? new Dictionary<string, string>(a) : [];
        // Upstream writes the time in spec.timeZone, or in UTC when the CronJob names none.
        var local = zoneGiven ? TimeZoneInfo.ConvertTime(scheduledTime, zone) : scheduledTime.ToUniversalTime();
        annotations[ScheduledTimestampAnnotation] = local.Offset == TimeSpan.Zero
            ? local.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : local.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        return new Job
        {
            ApiVersion = Job.KubeApiVersion,
            Kind = Job.KubeKind,
            Metadata = new ObjectMeta
            {
                Name = JobName(cronJob, scheduledTime),
                Namespace = meta.Namespace,
                Labels = template?.Metadata?.Labels is { } l ? new Dictionary<string, string>(l) : null,
                Annotations = annotations,
                OwnerReferences = [ControllerRef.New(CronJob.KubeApiVersion, CronJob.KubeKind, meta)],
            },
            Spec = template?.Spec is { } jobSpec ? ObjectCopy.Clone(jobSpec) : new JobSpec(),
        };
    }

    /// <summary>The reference the active list keeps for a Job.</summary>
    public static ObjectReference Reference(Job job) => new()
    {
        ApiVersion = Job.KubeApiVersion,
        Kind = Job.KubeKind,
        Name = job.Metadata?.Name,
        Namespace = job.Metadata?.Namespace,
        Uid = job.Metadata?.Uid,
        ResourceVersion = job.Metadata?.ResourceVersion,
    };

    private static TimeSpan? NextIn(CronJobSchedule schedule, DateTimeOffset now) =>
        schedule.Next(now) is { } next ? next - now + NextScheduleDelta : null;

    /// <summary>The oldest finished Jobs beyond the successful and failed history limits.</summary>
    private static List<Job> HistoryToPrune(CronJobSpec spec, IReadOnlyList<Job> jobs)
    {
        var prune = new List<Job>();
        void Oldest(string type, int? limit)
        {
            if (limit is not { } keep)
            {
                return;
            }

            var finished = jobs.Where(j => JobConditions.Finished(j)?.Type == type)
                .OrderBy(j => j.Status?.StartTime ?? DateTimeOffset.MaxValue)
                .ThenBy(j => j.Metadata?.Name, StringComparer.Ordinal)
                .ToList();
            prune.AddRange(finished.Take(Math.Max(0, finished.Count - keep)));
        }

        Oldest(JobConditions.Complete, spec.SuccessfulJobsHistoryLimit);
        Oldest(JobConditions.Failed, spec.FailedJobsHistoryLimit);
        return prune;
    }
}
