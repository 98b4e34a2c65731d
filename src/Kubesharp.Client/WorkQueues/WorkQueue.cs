namespace Kubesharp.Client.WorkQueues;

/// <summary>
/// A deduplicating, rate-limited work queue (client-go's workqueue): an item queued several times before it
/// is taken is processed once; an item being processed is never handed out again until <see cref="Done"/>
/// (re-adds while processing are queued at Done). Delayed and rate-limited adds use the TimeProvider.
/// </summary>
public sealed class WorkQueue<T> : IDisposable
    where T : notnull
{
    private readonly Lock gate = new();
    private readonly Queue<T> queue = new();
    private readonly HashSet<T> dirty = [];
    private readonly HashSet<T> processing = [];
    private readonly Queue<TaskCompletionSource<T>> waiters = new();
    private readonly Dictionary<T, (DateTimeOffset ReadyAt, ITimer Timer)> waiting = [];
    private readonly IRateLimiter<T> rateLimiter;
    private readonly TimeProvider time;
    private bool shuttingDown;
    private WorkQueueMetrics? metrics;
    private Dictionary<T, long>? addedAt;
    private Dictionary<T, long>? startedAt;

    public WorkQueue(IRateLimiter<T>? rateLimiter = null, TimeProvider? timeProvider = null)
    {
        time = timeProvider ?? TimeProvider.System;
        this.rateLimiter = rateLimiter ?? RateLimiters.DefaultController<T>(time);
    }

    /// <summary>Items ready to be taken.</summary>
    public int Length
    {
        get
        {
            lock (gate)
            {
                return queue.Count;
            }
        }
    }

    /// <summary>The queue's metrics once it is named (<see cref="EnableMetrics"/>).</summary>
    public WorkQueueMetrics? Metrics => metrics;

    /// <summary>
    /// Reports this queue's adds, depth, waiting and work times and retries under <paramref name="name"/>, as
    /// client-go's named queues do. Items already queued count from now on.
    /// </summary>
    public void EnableMetrics(string name)
    {
        lock (gate)
        {
            if (metrics is not null)
            {
                return;
            }

            metrics = new WorkQueueMetrics(name);
            addedAt = [];
            startedAt = [];
            metrics.Depth.Inc(queue.Count);
        }
    }

    public bool IsShuttingDown
    {
        get
        {
            lock (gate)
            {
                return shuttingDown;
            }
        }
    }

    public void Add(T item)
    {
        lock (gate)
        {
            if (shuttingDown || !dirty.Add(item))
            {
                return;
            }

            if (metrics is not null)
            {
                metrics.AddsTotal.Inc();
                addedAt!.TryAdd(item, time.GetTimestamp());
            }

            if (processing.Contains(item))
            {
                return;
            }

            Hand(item);
        }
    }

    /// <summary>Adds once <paramref name="delay"/> has passed; an earlier pending delay for the same item wins.</summary>
    public void AddAfter(T item, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(item);
            return;
        }

        lock (gate)
        {
            if (shuttingDown)
            {
                return;
            }

            var readyAt = time.GetUtcNow() + delay;
            if (waiting.TryGetValue(item, out var pending))
            {
                if (pending.ReadyAt <= readyAt)
                {
                    return;
                }

                pending.Timer.Dispose();
            }

            var timer = time.CreateTimer(static state => ((WorkQueue<T>)((object[])state!)[0]).Fire((T)((object[])state!)[1]), new object[] { this, item }, delay, Timeout.InfiniteTimeSpan);
            waiting[item] = (readyAt, timer);
        }
    }

    /// <summary>Adds after the rate limiter's delay for the item (per-item backoff and overall bucket).</summary>
    public void AddRateLimited(T item)
    {
        metrics?.RetriesTotal.Inc();
        AddAfter(item, rateLimiter.When(item));
    }

    /// <summary>Resets the item's backoff.</summary>
    public void Forget(T item) => rateLimiter.Forget(item);

    public int NumRequeues(T item) => rateLimiter.NumRequeues(item);

    /// <summary>Takes the next item; returns false once the queue is shut down and empty.</summary>
    public async Task<(bool Ok, T Item)> GetAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<T> waiter;
        lock (gate)
        {
            if (queue.TryDequeue(out var item))
            {
                metrics?.Depth.Dec();
                Take(item);
                return (true, item);
            }

            if (shuttingDown)
            {
                return (false, default!);
            }

            waiter = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters.Enqueue(waiter);
        }

        using (cancellationToken.Register(static w => ((TaskCompletionSource<T>)w!).TrySetCanceled(), waiter))
        {
            try
            {
                var item = await waiter.Task.ConfigureAwait(false);
                return (true, item);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Shut down while waiting.
                return (false, default!);
            }
        }
    }

    /// <summary>Marks the item processed; if it was re-added meanwhile it is queued again.</summary>
    public void Done(T item)
    {
        lock (gate)
        {
            processing.Remove(item);
            if (metrics is not null && startedAt!.Remove(item, out var started))
            {
                metrics.WorkDuration.Observe(time.GetElapsedTime(started).TotalSeconds);
            }

            if (dirty.Contains(item))
            {
                Hand(item);
            }
        }
    }

    /// <summary>Stops accepting items; waiting takers return false, queued items can still be drained.</summary>
    public void ShutDown()
    {
        lock (gate)
        {
            shuttingDown = true;
            foreach (var (_, pending) in waiting)
            {
                pending.Timer.Dispose();
            }

            waiting.Clear();
            while (waiters.TryDequeue(out var waiter))
            {
                waiter.TrySetCanceled();
            }
        }
    }

    public void Dispose() => ShutDown();

    private void Fire(T item)
    {
        lock (gate)
        {
            if (!waiting.Remove(item, out var pending))
            {
                return;
            }

            pending.Timer.Dispose();
        }

        Add(item);
    }

    /// <summary>Gives a dirty item to a waiting taker, or queues it. Caller holds the gate.</summary>
    private void Hand(T item)
    {
        while (waiters.TryDequeue(out var waiter))
        {
            Take(item);
            if (waiter.TrySetResult(item))
            {
                return;
            }

            // The taker was cancelled: undo and try the next one.
            processing.Remove(item);
            dirty.Add(item);
        }

        queue.Enqueue(item);
        metrics?.Depth.Inc();
    }

    private void Take(T item)
    {
        processing.Add(item);
        dirty.Remove(item);
        if (metrics is not null)
        {
            var now = time.GetTimestamp();
            if (addedAt!.Remove(item, out var added))
            {
                metrics.QueueDuration.Observe(time.GetElapsedTime(added, now).TotalSeconds);
            }

            startedAt![item] = now;
        }
    }
}
