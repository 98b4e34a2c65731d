namespace Kubesharp.Client.WorkQueues;

/// <summary>Per-item exponential backoff: base · 2^failures, capped.</summary>
public sealed class ItemExponentialFailureRateLimiter<T>(TimeSpan baseDelay, TimeSpan maxDelay) : IRateLimiter<T>
    where T : notnull
{
    private readonly Lock gate = new();
    private readonly Dictionary<T, int> failures = [];

    public TimeSpan When(T item)
    {
        int count;
        lock (gate)
        {
            failures.TryGetValue(item, out count);
            failures[item] = count + 1;
        }

        var delay = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(count, 62));
        return delay >= maxDelay.TotalMilliseconds ? maxDelay : TimeSpan.FromMilliseconds(delay);
    }

    public void Forget(T item)
    {
        lock (gate)
        {
            failures.Remove(item);
        }
    }

    public int NumRequeues(T item)
    {
        lock (gate)
        {
            return failures.GetValueOrDefault(item);
        }
    }
}
