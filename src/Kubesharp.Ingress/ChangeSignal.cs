using System.Threading.Channels;

namespace Kubesharp.Ingress;

/// <summary>
/// "Something changed" for a controller that rebuilds everything on each change: signals coalesce while it works,
/// and a wait ends at the next change (after a short delay that gathers a burst) or, when the last status write
/// failed, within a second anyway.
/// </summary>
internal sealed class ChangeSignal(TimeSpan gatherDelay, TimeProvider time)
{
    private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _changes.Writer.TryWrite(true);

    /// <summary>Waits for the next change, or at most a second when <paramref name="retrySoon"/>; throws only when <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task WaitAsync(bool retrySoon, CancellationToken cancellationToken)
    {
        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (retrySoon)
            {
                wait.CancelAfter(TimeSpan.FromSeconds(1));
            }

            await _changes.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
            await Task.Delay(gatherDelay, time, cancellationToken).ConfigureAwait(false);
            _changes.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }
}
