namespace Kubesharp.Storage.Sqlite;

/// <summary>Hands each committed transaction's events to every subscription; fed only by the writer, after commit.</summary>
internal sealed class WatchFanOut
{
    private readonly Lock _gate = new();
    private WatchSubscription[] _subscriptions = [];
    private bool _closed;

    public WatchSubscription Subscribe(string prefix, int capacity)
    {
        var subscription = new WatchSubscription(prefix, capacity);
        lock (_gate)
        {
            if (_closed)
            {
                subscription.Complete();
            }
            else
            {
                _subscriptions = [.. _subscriptions, subscription];
            }
        }

        return subscription;
    }

    public void Unsubscribe(WatchSubscription subscription)
    {
        lock (_gate)
        {
            _subscriptions = Array.FindAll(_subscriptions, s => !ReferenceEquals(s, subscription));
        }

        subscription.Complete();
    }

    public void Publish(IReadOnlyList<WatchEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            subscription.Offer(events);
        }
    }

    public void Close()
    {
        WatchSubscription[] subscriptions;
        lock (_gate)
        {
            _closed = true;
            subscriptions = _subscriptions;
            _subscriptions = [];
        }

        foreach (var subscription in subscriptions)
        {
            subscription.Complete();
        }
    }
}
