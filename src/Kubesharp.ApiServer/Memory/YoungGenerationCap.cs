namespace Kubesharp.ApiServer.Memory;

/// <summary>
/// Bounds the garbage the youngest generation gathers while the server allocates slowly. The runtime sizes that
/// generation's budget from the processor's last-level cache (about half of it: some 130 MB on a machine with a 260 MB
/// L3), so a server that only answers heartbeats and the odd watch event fills it over tens of seconds and holds that
/// much dead memory meanwhile, its RSS swinging by the budget between collections. Start-up and bursts allocate fast
/// enough to collect on their own and keep the large budget, which suits them (fewer collections while most of what
/// they allocate survives); when a whole period passes without a young collection and more than the cap has been
/// allocated since the last one, one young collection (a millisecond or two of short-lived garbage) takes its place.
/// </summary>
internal sealed class YoungGenerationCap(long capBytes, Func<int> youngCollections, Func<long> allocatedBytes, Action collect)
{
    /// <summary>
    /// The most a quiet server allocates between young collections: a young collection of an idle process takes about a
    /// millisecond, and an idle control plane allocates some 60 kB/s (leases, bookmarks), so one a minute or so costs
    /// nothing that shows and keeps a few MB of garbage instead of 16.
    /// </summary>
    public const long DefaultCapBytes = 4L << 20;

    private int _collectionsSeen = youngCollections();
    private long _allocatedAtCollection = allocatedBytes();

    /// <summary>Young collections this cap made.</summary>
    public int Collections { get; private set; }

    /// <summary>The cap over the process's garbage collector.</summary>
    public static YoungGenerationCap ForProcess() =>
        new(DefaultCapBytes, () => GC.CollectionCount(0), () => GC.GetTotalAllocatedBytes(), () => GC.Collect(0, GCCollectionMode.Forced, blocking: true));

    /// <summary>One period's look: collects when none happened since the last look and the cap has been allocated.</summary>
    public bool Check()
    {
        var allocated = allocatedBytes();
        var collections = youngCollections();
        if (collections != _collectionsSeen)
        {
            // A collection happened during the period: counting from here errs towards collecting later.
            _collectionsSeen = collections;
            _allocatedAtCollection = allocated;
            return false;
        }

        if (allocated - _allocatedAtCollection < capBytes)
        {
            return false;
        }

        collect();
        Collections++;
        _collectionsSeen = youngCollections();
        _allocatedAtCollection = allocatedBytes();
        return true;
    }

    public Task RunAsync(TimeSpan period, TimeProvider timeProvider, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(period, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Check();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }, CancellationToken.None);
}
