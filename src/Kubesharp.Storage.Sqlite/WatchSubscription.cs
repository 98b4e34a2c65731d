using System.Threading.Channels;

namespace Kubesharp.Storage.Sqlite;

/// <summary>
/// One watcher's queue of committed events. The writer never waits on it: when the queue is full the
/// subscription is marked lagging and drops live events until its reader catches up from the database.
/// </summary>
internal sealed class WatchSubscription
{
    private readonly Channel<WatchEvent[]> _channel;
    private volatile bool _lagging;

    public WatchSubscription(string prefix, int capacity)
    {
        Prefix = prefix;
        _channel = Channel.CreateBounded<WatchEvent[]>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public string Prefix { get; }

    public bool IsLagging => _lagging;

    public ChannelReader<WatchEvent[]> Reader => _channel.Reader;

    /// <summary>Called by the writer, in commit order, with every event of one transaction.</summary>
    public void Offer(IReadOnlyList<WatchEvent> events)
    {
        if (_lagging)
        {
            return;
        }

        WatchEvent[]? matching = null;
        var count = 0;
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].Current.Key.StartsWith(Prefix, StringComparison.Ordinal))
            {
                matching ??= new WatchEvent[events.Count - i];
                matching[count++] = events[i];
            }
        }

        if (matching is null)
        {
            return;
        }

        if (count != matching.Length)
        {
            Array.Resize(ref matching, count);
        }

        if (!_channel.Writer.TryWrite(matching))
        {
            _lagging = true;
        }
    }

    /// <summary>The reader found the queue drained while lagging: live delivery resumes, history fills the hole.</summary>
    public void ClearLagging() => _lagging = false;

    public void Complete() => _channel.Writer.TryComplete();
}
