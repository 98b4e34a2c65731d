namespace Kubesharp.ControllerManager;

/// <summary>
/// The informers one controller reads. Each controller waits only for its own caches, so a resource that
/// fails to list holds back the controllers that need it and no others.
/// </summary>
internal sealed class InformerSyncs
{
    private readonly List<Func<CancellationToken, Task>> waits = [];

    public void Add(Func<CancellationToken, Task> waitForSync) => waits.Add(waitForSync);

    /// <summary>Waits for every cache; with a limit, carries on after it (for best-effort consumers).</summary>
    public async Task WaitAsync(CancellationToken cancellationToken, TimeSpan? limit = null)
    {
        var all = Task.WhenAll(waits.Select(w => w(cancellationToken)));
        if (limit is { } max)
        {
            await Task.WhenAny(all, Task.Delay(max, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return;
        }

        await all.ConfigureAwait(false);
    }
}
