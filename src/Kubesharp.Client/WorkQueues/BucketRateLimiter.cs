using Kubesharp.ApiMachinery.RateLimiting;

namespace Kubesharp.Client.WorkQueues;

/// <summary>An overall token bucket: <c>qps</c> refill, <c>burst</c> capacity; each retry reserves a token.</summary>
public sealed class BucketRateLimiter<T>(double qps, int burst, TimeProvider? timeProvider = null) : IRateLimiter<T>
{
    private readonly TokenBucket bucket = new(qps, burst, timeProvider);

    public TimeSpan When(T item) => bucket.Reserve();

    public void Forget(T item)
    {
    }

    public int NumRequeues(T item) => 0;
}
