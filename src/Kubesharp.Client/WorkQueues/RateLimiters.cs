namespace Kubesharp.Client.WorkQueues;

public static class RateLimiters
{
    /// <summary>
    /// client-go's default controller limiter: per-item backoff 5 ms · 2^n up to 1000 s, and an overall
    /// bucket of 10 qps with a burst of 100.
    /// </summary>
    public static IRateLimiter<T> DefaultController<T>(TimeProvider? timeProvider = null)
        where T : notnull =>
        new MaxOfRateLimiter<T>(
            new ItemExponentialFailureRateLimiter<T>(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000)),
            new BucketRateLimiter<T>(10, 100, timeProvider));
}
