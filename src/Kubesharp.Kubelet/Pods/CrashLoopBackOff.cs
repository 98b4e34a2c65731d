using System.Collections.Concurrent;

namespace Kubesharp.Kubelet.Pods;

/// <summary>
/// The delay before a crashed container may start again: 10 s, doubling per restart up to 5 minutes, and
/// forgotten once a container ran for twice the maximum without crashing.
/// </summary>
internal sealed class CrashLoopBackOff
{
    private readonly TimeSpan initial;
    private readonly TimeSpan max;
    private readonly TimeProvider time;
    private readonly ConcurrentDictionary<string, (TimeSpan Delay, DateTimeOffset LastRestart)> entries = new();

    public CrashLoopBackOff(TimeSpan initial, TimeSpan max, TimeProvider time)
    {
        this.initial = initial;
        this.max = max;
        this.time = time;
    }

    /// <summary>How long the container must still wait after exiting at <paramref name="finishedAt"/>; zero when it may start now.</summary>
    public TimeSpan Remaining(string key, DateTimeOffset finishedAt)
    {
        if (!entries.TryGetValue(key, out var entry))
        {
            return TimeSpan.Zero;
        }

        var readyAt = finishedAt + entry.Delay;
        var now = time.GetUtcNow();
        return readyAt > now ? readyAt - now : TimeSpan.Zero;
    }

    /// <summary>Records a restart and grows the delay for the next one.</summary>
    public void Next(string key, DateTimeOffset startedAt, DateTimeOffset finishedAt)
    {
        var now = time.GetUtcNow();
        entries.AddOrUpdate(
            key,
            _ => (initial, now),
            (_, entry) => finishedAt - startedAt > max * 2
                ? (initial, now)
                : (TimeSpan.FromTicks(Math.Min(max.Ticks, entry.Delay.Ticks * 2)), now));
    }

    public void Forget(string keyPrefix)
    {
        foreach (var key in entries.Keys.Where(k => k.StartsWith(keyPrefix, StringComparison.Ordinal)).ToList())
        {
            entries.TryRemove(key, out _);
        }
    }
}
