using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Queue;

/// <summary>
/// Pending pods in three sets, as upstream: active (a heap by priority, then age), backoff (retried after a
/// per-pod exponential delay of 1 s doubling to 10 s) and unschedulable (parked until a cluster event that
/// may help — node added or changed, pod deleted — or for at most five minutes).
/// </summary>
public sealed class SchedulingQueue : IDisposable
{
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxInUnschedulable = TimeSpan.FromMinutes(5);

    private readonly Lock gate = new();
    private readonly TimeProvider time;
    private readonly PriorityQueue<Entry, (int, long)> active = new();
    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly Queue<TaskCompletionSource> waiters = new();
    private readonly ITimer flushTimer;
    private long sequence;
    private long moveRequestCycle = -1;
    private long schedulingCycle;
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
                return entries.Values.Count(e => e.Where == Location.Active);
            }
        }
    }

    public int BackoffCount => CountIn(Location.Backoff);

    public int UnschedulableCount => CountIn(Location.Unschedulable);

    /// <summary>Adds a new pending pod to active, or refreshes the queued copy.</summary>
    public void Add(PodInfo pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        lock (gate)
        {
            if (entries.TryGetValue(pod.Key, out var existing))
            {
                existing.Pod = pod;
                if (existing.Where == Location.Unschedulable)
                {
                    // An update to the pod itself may make it schedulable.
                    MoveToActiveOrBackoff(existing);
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
                while (active.TryDequeue(out var entry, out _))
                {
                    if (entry.Where != Location.Active || !entries.ContainsKey(entry.Pod.Key))
                    {
                        continue;
                    }

                    entry.Where = Location.InFlight;
                    entry.Attempts++;
                    schedulingCycle++;
                    return new QueuedPod(entry.Pod, entry.Attempts, schedulingCycle, entry.FirstSeen);
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

    /// <summary>The pod was bound (or is gone): forget it.</summary>
    public void Done(string key) => Delete(key);

    /// <summary>
    /// The attempt failed. If a cluster event arrived during the attempt, the pod goes to backoff (the event may
    /// have helped); otherwise it waits in unschedulable for one.
    /// </summary>
    public void AddUnschedulable(QueuedPod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        lock (gate)
        {
            if (!entries.TryGetValue(pod.Pod.Key, out var entry) || entry.Where == Location.Gone)
            {
                return;
            }

            entry.Pod = pod.Pod;
            entry.Since = time.GetUtcNow();
            if (moveRequestCycle >= pod.Cycle)
            {
                ToBackoff(entry);
            }
            else
            {
                entry.Where = Location.Unschedulable;
            }
        }
    }

    /// <summary>An error (not a placement failure) happened: retry after backoff.</summary>
    public void AddBackoff(QueuedPod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        lock (gate)
        {
            if (entries.TryGetValue(pod.Pod.Key, out var entry) && entry.Where != Location.Gone)
            {
                ToBackoff(entry);
            }
        }
    }

    /// <summary>A cluster event that may make parked pods schedulable (node added/updated, pod deleted).</summary>
    public void MoveAllToActiveOrBackoff()
    {
        lock (gate)
        {
            foreach (var entry in entries.Values)
            {
                if (entry.Where == Location.Unschedulable)
                {
                    MoveToActiveOrBackoff(entry);
                }
            }

            moveRequestCycle = schedulingCycle;
        }
    }

    /// <summary>Moves backoff pods whose delay passed, and long-parked unschedulable pods, to active.</summary>
    public void Flush()
    {
        lock (gate)
        {
            var now = time.GetUtcNow();
            foreach (var entry in entries.Values)
            {
                if ((entry.Where == Location.Backoff && entry.BackoffUntil <= now)
                    || (entry.Where == Location.Unschedulable && now - entry.Since >= MaxInUnschedulable))
                {
                    PushActive(entry);
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

    internal static TimeSpan BackoffFor(int attempts)
    {
        var delay = InitialBackoff;
        for (var i = 1; i < attempts && delay < MaxBackoff; i++)
        {
            delay *= 2;
        }

        return delay > MaxBackoff ? MaxBackoff : delay;
    }

    private int CountIn(Location location)
    {
        lock (gate)
        {
            return entries.Values.Count(e => e.Where == location);
        }
    }

    private void MoveToActiveOrBackoff(Entry entry)
    {
        if (entry.BackoffUntil > time.GetUtcNow())
        {
            entry.Where = Location.Backoff;
        }
        else
        {
            PushActive(entry);
        }
    }

    private void ToBackoff(Entry entry)
    {
        entry.BackoffUntil = time.GetUtcNow() + BackoffFor(entry.Attempts);
        entry.Where = Location.Backoff;
    }

    private void PushActive(Entry entry)
    {
        entry.Where = Location.Active;
        active.Enqueue(entry, (-entry.Pod.Priority, sequence++));
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

        public DateTimeOffset BackoffUntil { get; set; }

        public DateTimeOffset Since { get; set; }
    }
}
