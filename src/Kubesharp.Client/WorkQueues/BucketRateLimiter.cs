namespace Kubesharp.Client.WorkQueues;

/// <summary>An overall token bucket: <c>qps</c> refill, <c>burst</c> capacity; each retry reserves a token.</summary>
public sealed class BucketRateLimiter<T> : IRateLimiter<T>
{
    private readonly Lock gate = new();
    private readonly double qps;
    private readonly int burst;
    private readonly TimeProvider time;
    private double tokens;
    private long last;

    public BucketRateLimiter(double qps, int burst, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(qps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        this.qps = qps;
        this.burst = burst;
        time = timeProvider ?? TimeProvider.System;
        tokens = burst;
        last = time.GetTimestamp();
    }

    public TimeSpan When(T item)
    {
        lock (gate)
        {
            var now = time.GetTimestamp();
            tokens = Math.Min(burst, tokens + (time.GetElapsedTime(last, now).TotalSeconds * qps));
            last = now;
            tokens -= 1;
            return tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-tokens / qps);
        }
    }

    public void Forget(T item)
    {
    }

    public int NumRequeues(T item) => 0;
}
