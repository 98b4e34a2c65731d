namespace Kubesharp.Client.WorkQueues;

/// <summary>Decides how long an item waits before it is retried.</summary>
public interface IRateLimiter<in T>
{
    /// <summary>The delay for the item's next retry (and counts the retry).</summary>
    TimeSpan When(T item);

    /// <summary>Stops tracking the item (it succeeded).</summary>
    void Forget(T item);

    int NumRequeues(T item);
}
