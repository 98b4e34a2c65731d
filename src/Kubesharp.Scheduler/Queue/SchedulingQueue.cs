using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Queue;

/// <summary>
/// Pending pods in three sets, as upstream: active (a heap by priority, then age), backoff (a heap by the time a
/// per-pod exponential delay of 1 s doubling to 10 s expires) and unschedulable (parked until a cluster event that
/// may help — node added or changed, pod deleted, the pod itself changed — or for at most five minutes). A pod
/// that failed is never retried before its backoff expires, however many events arrive: an event only moves it
/// from unschedulable to backoff.
/// </summary>
public sealed class SchedulingQueue : IDisposable
{
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MaxInUnschedulable = TimeSpan.FromMinutes(5);

    private readonly Lock gate = new();
    private readonly TimeProvider time;
    private readonly PriorityQueue<Entry, (int, long)> active = new();
    private readonly PriorityQueue<Entry, DateTimeOffset> backoff = new();
    private readonly HashSet<Entry> unschedulable = [];
    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly Queue<TaskCompletionSource> waiters = new();
    private readonly ITimer flushTimer;
    private long sequence;
    private long moveRequestCycle = -1;
    private long schedulingCycle;
    private int activeCount;
    private int backoffCount;
    private bool closed;

    public SchedulingQueue(TimeProvider? timeProvider = null)
    {
        time = timeProvider ?? TimeProvider.System;
        flushTimer = time.CreateTimer(_ => Flush(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public int ActiveCount
    {
        get
        {
            lock (gate)
            {
                return activeCount;
            }
        }
    }

    public int BackoffCount
    {
        get
        {
            lock (gate)
            {
                return backoffCount;
            }
        }
    }

    public int UnschedulableCount
    {
        get
        {
            lock (gate)
            {
                return unschedulable.Count;
            }
        }
    }

    /// <summary>
    /// Adds a new pending pod to active, or refreshes the queued copy. <paramref name="relevantUpdate"/> says whether a
    /// refreshed pod changed in a way that may change the verdict (upstream ignores status, resourceVersion and
    /// managedFields changes): only then does a parked pod leave unschedulable, and then through its backoff.
    /// </summary>
    public void Add(PodInfo pod, bool relevantUpdate = true)
    {
        ArgumentNullException.ThrowIfNull(pod);
        lock (gate)
        {
            if (entries.TryGetValue(pod.Key, out var existing))
            {
                existing.Pod = pod;
                if (!relevantUpdate)
                {
                    return;
                }

                if (existing.Where == Location.Unschedulable)
                {
                    MoveToActiveOrBackoff(existing, time.GetUtcNow());
                }
                else if (existing.Where == Location.InFlight)
                {
                    existing.UpdatedInFlight = true;
                }

                return;
            }

            var entry = new Entry(pod, time.GetUtcNow());
            entries[pod.Key] = entry;
            PushActive(entry);
        }
    }

    public void Delete(string key)
    {
        lock (gate)
        {
            if (entries.Remove(key, out var entry))
            {
                Leave(entry);
                entry.Where = Location.Gone;
            }
        }
    }

    /// <summary>Takes the highest-priority active pod; null once closed.</summary>
    public async Task<QueuedPod?> PopAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TaskCompletionSource waiter;
            lock (gate)
            {
                if (TryPop() is { } popped)
                {
                    return popped;
                }

                if (closed)
                {
                    return null;
                }

                waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                waiters.Enqueue(waiter);
            }

            await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes the highest-priority active pod if there is one, without waiting.</summary>
    public QueuedPod? TryPop()
    {
        lock (gate)
        {
            while (active.TryDequeue(out var entry, out var priority))
            {
                if (entry.Where != Location.Active || entry.ActiveSequence != priority.Item2)
                {
                    continue;
                }

                activeCount--;
                entry.Where = Location.InFlight;
                entry.UpdatedInFlight = false;
                entry.Attempts++;
                schedulingCycle++;
                return new QueuedPod(entry.Pod, entry.Attempts, schedulingCycle, entry.FirstSeen);
            }

            return null;
        }
    }

    /// <summary>The pod was bound (or is gone): forget it.</summary>
    public void Done(string key) => Delete(key);

    /// <summary>
    /// The attempt failed. If a cluster event arrived or the pod changed during the attempt, the pod goes to backoff
    /// (the change may have helped); otherwise it waits in unschedulable for one. Either way it is not tried again
    /// before its backoff expires.
    /// </summary>
    public void AddUnschedulable(QueuedPod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        lock (gate)
        {
            if (!entries.TryGetValue(pod.Pod.Key, out var entry) || entry.Where != Location.InFlight)
            {
                return;
            }

            var now = time.GetUtcNow();
            entry.LastFailure = now;
            entry.BackoffUntil = now + BackoffFor(entry.Attempts);
            if (moveRequestCycle >= pod.Cycle || entry.UpdatedInFlight)
            {
                PushBackoff(entry);
            }
            else
            {
                entry.Where = Location.Unschedulable;
                unschedulable.Add(entry);
            }
        }
    }

    /// <summary>An error (not a placement failure) happened: retry after backoff.</summary>
    public void AddBackoff(QueuedPod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        lock (gate)
        {
            if (entries.TryGetValue(pod.Pod.Key, out var entry) && entry.Where == Location.InFlight)
            {
                var now = time.GetUtcNow();
                entry.LastFailure = now;
                entry.BackoffUntil = now + BackoffFor(entry.Attempts);
                PushBackoff(entry);
            }
        }
    }

    /// <summary>A cluster event that may make every parked pod schedulable (node added or changed, pod deleted).</summary>
    public void MoveAllToActiveOrBackoff() => MoveAllToActiveOrBackoff(null);

    /// <summary>A cluster event that may help the parked pods <paramref name="mayHelp"/> accepts (all when null).</summary>
    public void MoveAllToActiveOrBackoff(Func<PodInfo, bool>? mayHelp)
    {
        lock (gate)
        {
            if (unschedulable.Count > 0)
            {
                var now = time.GetUtcNow();
                foreach (var entry in unschedulable.Where(e => mayHelp is null || mayHelp(e.Pod)).ToList())
                {
                    MoveToActiveOrBackoff(entry, now);
                }
            }

            moveRequestCycle = schedulingCycle;
        }
    }

    /// <summary>Moves backoff pods whose delay passed to active, and pods parked for five minutes out of unschedulable.</summary>
    public void Flush()
    {
        lock (gate)
        {
            var now = time.GetUtcNow();
            while (backoff.TryPeek(out var entry, out var until) && until <= now)
            {
                backoff.Dequeue();
                if (entry.Where == Location.Backoff && entry.BackoffUntil == until)
                {
                    backoffCount--;
                    PushActive(entry);
                }
            }

            if (unschedulable.Count > 0)
            {
                foreach (var entry in unschedulable.Where(e => now - e.LastFailure >= MaxInUnschedulable).ToList())
                {
                    MoveToActiveOrBackoff(entry, now);
                }
            }
        }
    }

    public void Close()
    {
        lock (gate)
        {
            closed = true;
            Wake();
        }
    }

    public void Dispose()
    {
        Close();
        flushTimer.Dispose();
    }

    /// <summary>Upstream's per-pod backoff: 1 s after the first failed attempt, doubling per attempt, at most 10 s.</summary>
    public static TimeSpan BackoffFor(int attempts)
    {
        var delay = InitialBackoff;
        for (var i = 1; i < attempts && delay < MaxBackoff; i++)
        {
            delay *= 2;
        }

        return delay > MaxBackoff ? MaxBackoff : delay;
    }

    private void MoveToActiveOrBackoff(Entry entry, DateTimeOffset now)
    {
        Leave(entry);
        if (entry.BackoffUntil > now)
        {
            PushBackoff(entry);
        }
        else
        {
            PushActive(entry);
        }
    }

    /// <summary>Takes the entry out of the set it is counted in (heaps drop stale entries lazily).</summary>
    private void Leave(Entry entry)
    {
        switch (entry.Where)
        {
            case Location.Active:
                activeCount--;
                break;
            case Location.Backoff:
                backoffCount--;
                break;
            case Location.Unschedulable:
                unschedulable.Remove(entry);
                break;
        }

        entry.Where = Location.InFlight;
    }

    private void PushBackoff(Entry entry)
    {
        entry.Where = Location.Backoff;
        backoffCount++;
        backoff.Enqueue(entry, entry.BackoffUntil);
    }

    private void PushActive(Entry entry)
    {
        entry.Where = Location.Active;
        entry.ActiveSequence = sequence++;
        activeCount++;
        active.Enqueue(entry, (-entry.Pod.Priority, entry.ActiveSequence));
        Wake();
    }

    private void Wake()
    {
        while (waiters.TryDequeue(out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    private enum Location
    {
        Active,
        InFlight,
        Backoff,
        Unschedulable,
        Gone,
    }

    private sealed class Entry(PodInfo pod, DateTimeOffset firstSeen)
    {
        public PodInfo Pod { get; set; } = pod;

        public DateTimeOffset FirstSeen { get; } = firstSeen;

        public Location Where { get; set; }

        public int Attempts { get; set; }

        public long ActiveSequence { get; set; }

        public bool UpdatedInFlight { get; set; }

        public DateTimeOffset BackoffUntil { get; set; }

        public DateTimeOffset LastFailure { get; set; }
    }
}
