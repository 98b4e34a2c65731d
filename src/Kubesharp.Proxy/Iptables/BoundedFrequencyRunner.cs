using System.Threading.Channels;

namespace Kubesharp.Proxy.Iptables;

/// <summary>
/// The rhythm of kube-proxy's rule syncs: a sync runs when something asked for one, coalescing requests so that syncs
/// are at least <c>minInterval</c> apart, and at least once per <c>period</c> even when nothing asked (a forced sync,
/// which repairs rules someone else changed).
/// </summary>
internal sealed class BoundedFrequencyRunner(TimeSpan minInterval, TimeSpan period, TimeProvider time)
{
    private readonly Channel<bool> requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Asks for a sync; requests made before it starts are served by the same sync.</summary>
    public void Request() => requests.Writer.TryWrite(true);

    /// <summary>Calls <paramref name="sync"/> (with whether the sync is forced) in that rhythm until cancelled.</summary>
    public async Task RunAsync(Func<bool, CancellationToken, Task> sync, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            using var periodic = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            periodic.CancelAfter(period);
            var forced = false;
            try
            {
                await requests.Reader.ReadAsync(periodic.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                forced = true;
            }

            await Task.Delay(minInterval, time, cancellationToken).ConfigureAwait(false);
            requests.Reader.TryRead(out _);
            await sync(forced, cancellationToken).ConfigureAwait(false);
        }
    }
}
