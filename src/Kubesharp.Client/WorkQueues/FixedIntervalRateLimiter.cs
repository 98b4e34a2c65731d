namespace Kubesharp.Client.WorkQueues;

/// <summary>
/// Every retry after the same interval, however many failed before (upstream's limiter for autoscalers: an
/// autoscaler is evaluated once a sync period, and a run of failures must not push its next evaluation minutes away).
/// </summary>
public sealed class FixedIntervalRateLimiter<T>(TimeSpan interval) : IRateLimiter<T>
    where T : notnull
{
    private readonly Lock gate = new();
    private readonly Dictionary<T, int> requeues = [];

    public TimeSpan When(T item)
    {
        lock (gate)
        {
            requeues[item] = requeues.GetValueOrDefault(item) + 1;
        }

        return interval;
    }

    public void Forget(T item)
    {
        lock (gate)
        {
            requeues.Remove(item);
        }
    }

    public int NumRequeues(T item)
    {
        lock (gate)
        {
            return requeues.GetValueOrDefault(item);
        }
    }
}
