using System.Globalization;
using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Pods;

namespace Kubesharp.ControllerManager.Jobs;

/// <summary>
/// Plans one reconcile of a Job from the Job and the pods it owns, as upstream's Job controller decides it: finished
/// pods are counted through their tracking finalizer (recorded as uncounted first, so a crash counts nothing twice),
/// failures are judged by the pod failure policy and the backoff limits, the active deadline and success criteria
/// end the Job (FailureTarget or SuccessCriteriaMet first, Failed or Complete once no pod is left terminating), and
/// pods are created or deleted towards parallelism and completions. A pure function of its inputs and the time.
/// </summary>
internal static class JobSync
{
    /// <summary>At most this many creations or deletions per reconcile, as upstream's burst limit.</summary>
    public const int Burst = 500;

    /// <param name="job">The Job as cached (not changed).</param>
    /// <param name="pods">Every pod the Job owns, finished or not.</param>
    /// <param name="finalizersBeingRemoved">Uids whose finalizer removal is sent but not yet seen in the cache.</param>
    /// <param name="manage">False while earlier creations and deletions are not yet seen: count, but create or delete nothing.</param>
    public static JobSyncPlan Plan(Job job, IReadOnlyList<Pod> pods, IReadOnlySet<string> finalizersBeingRemoved, DateTimeOffset now, bool manage = true)
    {
        var spec = job.Spec ?? new JobSpec();
        var status = job.Status is { } s ? ObjectCopy.Clone(s) : new JobStatus();
        var events = new List<ControllerEvent>();
        var indexed = JobPods.IsIndexed(job);
        var completions = spec.Completions;
        var perIndexLimit = indexed ? spec.BackoffLimitPerIndex : null;
        var finishedAlready = JobConditions.IsFinished(job);
        var deleting = job.Metadata?.DeletionTimestamp is not null;
        var suspended = spec.Suspend == true;

        var uncountedSucceeded = new HashSet<string>(status.UncountedTerminatedPods?.Succeeded ?? [], StringComparer.Ordinal);
        var uncountedFailed = new HashSet<string>(status.UncountedTerminatedPods?.Failed ?? [], StringComparer.Ordinal);
        var previouslyUncounted = uncountedSucceeded.Count + uncountedFailed.Count;
        var succeededIndexes = indexed ? CompletionIndexes.Parse(status.CompletedIndexes, completions ?? 0) : [];
        var failedIndexes = perIndexLimit is not null ? CompletionIndexes.Parse(status.FailedIndexes, completions ?? 0) : [];

        // A Job already failing or succeeding (FailureTarget or SuccessCriteriaMet recorded) only waits for its pods.
        var finishing = Finishing(status);
        var active = pods.Where(JobPods.IsActive).ToList();
        var terminating = pods.Count(JobPods.IsTerminating);

        // Finished pods still carrying the finalizer: count them now.
        var removeFinalizers = new List<Pod>();
        var tracked = pods.Where(p => JobPods.HasTrackingFinalizer(p) && !finalizersBeingRemoved.Contains(p.Metadata?.Uid ?? string.Empty)).ToList();
        string? failJobMessage = null;
        foreach (var pod in tracked)
        {
            var uid = pod.Metadata?.Uid ?? string.Empty;
            if (uncountedSucceeded.Contains(uid) || uncountedFailed.Contains(uid))
            {
                removeFinalizers.Add(pod);
                continue;
            }

            var index = JobPods.CompletionIndex(pod);
            var validIndex = !indexed || (index is { } ix && ix < completions);
            if (pod.Status?.Phase == "Succeeded")
            {
                removeFinalizers.Add(pod);
                if (finishedAlready || !validIndex)
                {
                    continue;
                }

                if (!indexed || succeededIndexes.Add(index!.Value))
                {
                    uncountedSucceeded.Add(uid);
                }

                continue;
            }

            if (!JobPods.IsFailed(pod, job))
            {
                continue;
            }

            removeFinalizers.Add(pod);
            if (finishedAlready || !validIndex)
            {
                continue;
            }

            var match = PodFailurePolicyMatch.Find(spec.PodFailurePolicy, pod);
            switch (match?.Action)
            {
                case PodFailurePolicyMatch.Ignore:
                    continue;
                case PodFailurePolicyMatch.FailJob:
                    failJobMessage ??= match.Message;
                    break;
                case PodFailurePolicyMatch.FailIndex when perIndexLimit is not null:
                    failedIndexes.Add(index!.Value);
                    break;
            }

            uncountedFailed.Add(uid);
            if (perIndexLimit is { } limit && JobPods.IndexFailureCount(pod) >= limit)
            {
                failedIndexes.Add(index!.Value);
            }
        }

        var newlyUncounted = uncountedSucceeded.Count + uncountedFailed.Count - previouslyUncounted;
        var succeeded = indexed ? succeededIndexes.Count : (status.Succeeded ?? 0) + uncountedSucceeded.Count;
        var failed = (status.Failed ?? 0) + uncountedFailed.Count;

        // Suspension and resumption.
        if (!finishedAlready && finishing is null)
        {
            if (suspended)
            {
                if (JobConditions.Set(status, JobConditions.Suspended, "True", JobConditions.JobSuspended, "Job suspended", now))
                {
                    events.Add(ControllerEvent.Normal("Suspended", "Job suspended"));
                }
            }
            else if (JobConditions.IsTrue(status, JobConditions.Suspended))
            {
                JobConditions.Set(status, JobConditions.Suspended, "False", JobConditions.JobResumed, "Job resumed", now);
                status.StartTime = now;
                events.Add(ControllerEvent.Normal("Resumed", "Job resumed"));
            }
        }

        if (status.StartTime is null && !suspended && !finishedAlready)
        {
            status.StartTime = now;
        }

        // How the Job ends, when it does.
        TimeSpan? requeue = null;
        if (!finishedAlready && finishing is null)
        {
            finishing = Decide(job, spec, status, active, succeededIndexes, failedIndexes, succeeded, failed, failJobMessage, suspended, now, ref requeue);
            if (finishing is { } f)
            {
                JobConditions.Set(status, f.Interim, "True", f.Reason, f.Message, now);
            }
        }

        // Once the Job ends, pods already being deleted are no longer waited for (a failing Job counts them as
        // failed); active ones are deleted below, their finalizer removed first so they count as nothing.
        if (finishing is not null || deleting || finishedAlready)
        {
            foreach (var pod in tracked.Where(p => !JobPods.IsActive(p) && !removeFinalizers.Contains(p)))
            {
                removeFinalizers.Add(pod);
                var ix = JobPods.CompletionIndex(pod);
                if (finishing is { Terminal: JobConditions.Failed } && !finishedAlready && !JobPods.IsTerminal(pod) && (!indexed || ix < completions))
                {
                    uncountedFailed.Add(pod.Metadata?.Uid ?? string.Empty);
                    failed++;
                    newlyUncounted++;
                }
            }

            if (deleting || finishedAlready)
            {
                removeFinalizers.AddRange(tracked.Where(p => JobPods.IsActive(p) && !removeFinalizers.Contains(p)));
            }
        }

        JobStatus? interim = null;
        if (newlyUncounted > 0)
        {
            interim = ObjectCopy.Clone(status);
            interim.UncountedTerminatedPods = new UncountedTerminatedPods
            {
                Succeeded = uncountedSucceeded.Count > 0 ? [.. uncountedSucceeded.Order(StringComparer.Ordinal)] : null,
                Failed = uncountedFailed.Count > 0 ? [.. uncountedFailed.Order(StringComparer.Ordinal)] : null,
            };
        }

        // Pods to create or delete.
        var delete = new List<Pod>();
        var create = new List<(int? Index, int FailureCount)>();
        if (manage && !finishedAlready && !deleting)
        {
            if (finishing is not null || suspended)
            {
                delete.AddRange(active.Take(Burst));
            }
            else
            {
                var wait = Manage(job, spec, pods, active, terminating, succeededIndexes, failedIndexes, succeeded, now, delete, create);
                if (wait is { } w)
                {
                    requeue = requeue is { } r && r < w ? r : w;
                }
            }
        }

        var activeAfter = active.Count - delete.Count + create.Count;
        var terminatingAfter = terminating + delete.Count;
        // Upstream omits zero counts, except ready and terminating (pointers there).
        status.Active = activeAfter > 0 ? activeAfter : null;
        status.Ready = active.Except(delete).Count(PodReadiness.IsReady);
        status.Terminating = terminatingAfter;
        status.Succeeded = succeeded > 0 ? succeeded : null;
        status.Failed = failed > 0 ? failed : null;
        status.CompletedIndexes = indexed ? CompletionIndexes.Format(succeededIndexes) : null;
        status.FailedIndexes = perIndexLimit is not null ? CompletionIndexes.Format(failedIndexes) ?? string.Empty : null;
        status.UncountedTerminatedPods = new UncountedTerminatedPods();

        // The terminal condition waits until every pod of the Job has stopped.
        if (finishing is { } end && !finishedAlready && terminatingAfter == 0 && activeAfter == 0)
        {
            JobConditions.Set(status, end.Terminal, "True", end.Reason, end.Message, now);
            if (end.Terminal == JobConditions.Complete)
            {
                status.CompletionTime = JobConditions.Get(status, JobConditions.Complete)?.LastTransitionTime ?? now;
                events.Add(ControllerEvent.Normal("Completed", "Job completed"));
            }
            else
            {
                events.Add(ControllerEvent.Warning(end.Reason, end.Message));
            }
        }

        return new JobSyncPlan
        {
            Status = status,
            Interim = interim,
            RemoveFinalizers = removeFinalizers,
            Delete = delete,
            Create = create,
            Events = events,
            RequeueAfter = requeue,
        };
    }

    /// <summary>The end a Job has already recorded (FailureTarget or SuccessCriteriaMet), carried to its terminal condition.</summary>
    private static Ending? Finishing(JobStatus status)
    {
        if (JobConditions.Get(status, JobConditions.FailureTarget) is { Status: "True" } failure)
        {
            return new Ending(JobConditions.FailureTarget, JobConditions.Failed, failure.Reason ?? string.Empty, failure.Message ?? string.Empty);
        }

        if (JobConditions.Get(status, JobConditions.SuccessCriteriaMet) is { Status: "True" } success)
        {
            return new Ending(JobConditions.SuccessCriteriaMet, JobConditions.Complete, success.Reason ?? string.Empty, success.Message ?? string.Empty);
        }

        return null;
    }

    private static Ending? Decide(
        Job job,
        JobSpec spec,
        JobStatus status,
        List<Pod> active,
        SortedSet<int> succeededIndexes,
        SortedSet<int> failedIndexes,
        int succeeded,
        int failed,
        string? failJobMessage,
        bool suspended,
        DateTimeOffset now,
        ref TimeSpan? requeue)
    {
        static Ending Failure(string reason, string message) => new(JobConditions.FailureTarget, JobConditions.Failed, reason, message);
        static Ending Success(string reason, string message) => new(JobConditions.SuccessCriteriaMet, JobConditions.Complete, reason, message);

        if (failJobMessage is not null)
        {
            return Failure(JobConditions.PodFailurePolicy, failJobMessage);
        }

        var backoffLimit = spec.BackoffLimit ?? 6;
        if (spec.BackoffLimitPerIndex is null || !JobPods.IsIndexed(job))
        {
            if (failed > backoffLimit || RestartsExceed(spec, active, backoffLimit))
            {
                return Failure(JobConditions.BackoffLimitExceeded, "Job has reached the specified backoff limit");
            }
        }

        if (!suspended && spec.ActiveDeadlineSeconds is { } deadline && status.StartTime is { } start)
        {
            var left = start.AddSeconds(deadline) - now;
            if (left <= TimeSpan.Zero)
            {
                return Failure(JobConditions.DeadlineExceeded, "Job was active longer than specified deadline");
            }

            requeue = left;
        }

        var completions = spec.Completions;
        if (JobPods.IsIndexed(job) && completions is { } total)
        {
            if (spec.MaxFailedIndexes is { } maxFailed && failedIndexes.Count > maxFailed)
            {
                return Failure(JobConditions.MaxFailedIndexesExceeded, "Job has exceeded the specified maximal number of failed indexes");
            }

            if (failedIndexes.Count > 0 && succeededIndexes.Count + failedIndexes.Count >= total && active.Count == 0)
            {
                return Failure(JobConditions.FailedIndexes, "Job has failed indexes");
            }

            if (MatchSuccessPolicy(spec.SuccessPolicy, succeededIndexes, total) is { } rule)
            {
                return Success(JobConditions.SuccessPolicy, $"Matched rules at index {rule.ToString(CultureInfo.InvariantCulture)}");
            }
        }

        var complete = completions is null ? succeeded > 0 && active.Count == 0 : succeeded >= completions && active.Count == 0;
        return complete ? Success(JobConditions.CompletionsReached, "Reached expected number of succeeded pods") : null;
    }

    /// <summary>With restartPolicy OnFailure a failing container restarts in place: its restarts count against the limit.</summary>
    private static bool RestartsExceed(JobSpec spec, List<Pod> active, int backoffLimit)
    {
        if (spec.Template?.Spec?.RestartPolicy != "OnFailure")
        {
            return false;
        }

        var restarts = active
            .Where(p => p.Status?.Phase is "Running" or "Pending")
            .Sum(p => (p.Status?.ContainerStatuses ?? []).Concat(p.Status?.InitContainerStatuses ?? []).Sum(c => c.RestartCount ?? 0));
        return backoffLimit == 0 ? restarts > 0 : restarts >= backoffLimit;
    }

    /// <summary>The index of the first success policy rule the succeeded indexes meet.</summary>
    public static int? MatchSuccessPolicy(SuccessPolicy? policy, SortedSet<int> succeededIndexes, int completions)
    {
        if (policy?.Rules is not { } rules)
        {
            return null;
        }

        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            if (rule.SucceededIndexes is { } text)
            {
                var wanted = CompletionIndexes.Parse(text, completions);
                var met = wanted.Count(succeededIndexes.Contains);
                if (rule.SucceededCount is { } count ? met >= count : met == wanted.Count && wanted.Count > 0)
                {
                    return i;
                }
            }
            else if (rule.SucceededCount is { } count && succeededIndexes.Count >= count)
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>Fills the creations and deletions that bring the active pods to what the Job wants; returns a backoff wait.</summary>
    private static TimeSpan? Manage(
        Job job,
        JobSpec spec,
        IReadOnlyList<Pod> pods,
        List<Pod> active,
        int terminating,
        SortedSet<int> succeededIndexes,
        SortedSet<int> failedIndexes,
        int succeeded,
        DateTimeOffset now,
        List<Pod> delete,
        List<(int? Index, int FailureCount)> create)
    {
        var parallelism = Math.Max(0, spec.Parallelism ?? 1);
        var waitForTerminating = JobPods.OnlyReplacesFailedPods(job);
        int wantActive;
        if (!JobPods.IsIndexed(job))
        {
            if (spec.Completions is { } completions)
            {
                wantActive = Math.Clamp(completions - succeeded, 0, parallelism);
            }
            else
            {
                // A work queue: once one pod succeeded the rest finish on their own, no new ones start.
                wantActive = succeeded > 0 ? active.Count : parallelism;
            }

            if (active.Count > wantActive)
            {
                delete.AddRange(PodDeletionOrder.Select(active, [], Math.Min(active.Count - wantActive, Burst)));
                return null;
            }

            var missing = wantActive - active.Count - (waitForTerminating ? terminating : 0);
            if (missing <= 0)
            {
                return null;
            }

            var wait = JobBackoff.Remaining(job, pods, now);
            if (wait > TimeSpan.Zero)
            {
                return wait;
            }

            create.AddRange(Enumerable.Repeat<(int?, int)>((null, 0), Math.Min(missing, Burst)));
            return null;
        }

        var total = spec.Completions ?? 0;
        var keptByIndex = new Dictionary<int, Pod>();
        foreach (var pod in active.OrderByDescending(PodReadiness.IsReady).ThenBy(p => p.Metadata?.CreationTimestamp))
        {
            // Pods without a valid index, of an index already done, or doubling up on an index are surplus.
            if (JobPods.CompletionIndex(pod) is not { } index || index >= total || succeededIndexes.Contains(index) || failedIndexes.Contains(index) || !keptByIndex.TryAdd(index, pod))
            {
                delete.Add(pod);
            }
        }

        var busy = new HashSet<int>(keptByIndex.Keys);
        if (waitForTerminating)
        {
            foreach (var pod in pods.Where(JobPods.IsTerminating))
            {
                if (JobPods.CompletionIndex(pod) is { } index)
                {
                    busy.Add(index);
                }
            }
        }

        var want = Math.Min(parallelism, total - succeededIndexes.Count - failedIndexes.Count);
        if (keptByIndex.Count > want)
        {
            var surplus = keptByIndex.Values.OrderBy(PodReadiness.IsReady).ThenByDescending(p => JobPods.CompletionIndex(p)).Take(keptByIndex.Count - want);
            delete.AddRange(surplus);
            return null;
        }

        var slots = want - busy.Count(keptByIndex.ContainsKey) - (waitForTerminating ? busy.Count - keptByIndex.Count : 0);
        if (slots <= 0)
        {
            return null;
        }

        var candidates = Enumerable.Range(0, total)
            .Where(i => !succeededIndexes.Contains(i) && !failedIndexes.Contains(i) && !busy.Contains(i))
            .Take(Math.Min(slots, Burst))
            .ToList();
        if (candidates.Count == 0)
        {
            return null;
        }

        var backoff = JobBackoff.Remaining(job, pods, now);
        if (backoff > TimeSpan.Zero)
        {
            return backoff;
        }

        foreach (var index in candidates)
        {
            var failures = pods
                .Where(p => p.Status?.Phase == "Failed" && JobPods.CompletionIndex(p) == index && PodFailurePolicyMatch.Find(spec.PodFailurePolicy, p)?.Action != PodFailurePolicyMatch.Ignore)
                .Select(p => JobPods.IndexFailureCount(p) + 1)
                .DefaultIfEmpty(0)
                .Max();
            create.Add((index, failures));
        }

        return null;
    }

    /// <summary>How a Job ends: the interim condition recorded at once, the terminal one once its pods are gone.</summary>
    private sealed record Ending(string Interim, string Terminal, string Reason, string Message);
}
