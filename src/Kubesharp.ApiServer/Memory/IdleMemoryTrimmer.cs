using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Memory;

/// <summary>
/// Gives memory back to the system after a burst (a wave of large lists, a relist storm): the garbage collector
/// keeps the heap it grew for as long as nothing allocates enough to trigger a full collection, which an idle
/// server never does. Every period, when the heap holds much more than it uses and little was allocated since the
/// last look (the server is quiet, so a short pause harms no one), one aggressive full collection compacts the
/// heap and releases the free memory, as Go's scavenger does for upstream's API server.
/// </summary>
internal sealed partial class IdleMemoryTrimmer
{
    /// <summary>Committed bytes beyond the live heap worth a collection.</summary>
    public const long SlackBytes = 16L << 20;

    /// <summary>At most this much allocated since the last look counts as quiet.</summary>
    public const long QuietAllocationBytes = 64L << 20;

    public static Task RunAsync(TimeSpan period, TimeProvider timeProvider, ILogger logger, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(period, timeProvider);
        var allocated = GC.GetTotalAllocatedBytes();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = GC.GetTotalAllocatedBytes();
                var quiet = now - allocated <= QuietAllocationBytes;
                allocated = now;
                var info = GC.GetGCMemoryInfo(GCKind.Any);
                var slack = info.TotalCommittedBytes - info.HeapSizeBytes + info.FragmentedBytes;
                if (!quiet || slack < SlackBytes)
                {
                    continue;
                }

                Collect(logger);
                allocated = GC.GetTotalAllocatedBytes();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }, CancellationToken.None);

    /// <summary>Allocation over one <see cref="QuietStep"/> below which start-up's trailing work counts as done.</summary>
    public const long QuietStepBytes = 512L << 10;

    public static readonly TimeSpan QuietStep = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// <see cref="Collect"/> once the process has gone quiet (less than <see cref="QuietStepBytes"/> allocated in a
    /// <see cref="QuietStep"/>), or after <paramref name="limit"/> at the latest. Work that follows the components'
    /// sync (the garbage collector's graph of every resource, the add-ons) would otherwise fill the heap again right
    /// after an immediate collection, and an idle server would keep that until the first period.
    /// </summary>
    public static async Task CollectWhenQuietAsync(TimeSpan limit, TimeProvider timeProvider, ILogger logger, CancellationToken cancellationToken)
    {
        var allocated = GC.GetTotalAllocatedBytes();
        for (var waited = TimeSpan.Zero; waited < limit; waited += QuietStep)
        {
            await Task.Delay(QuietStep, timeProvider, cancellationToken).ConfigureAwait(false);
            var now = GC.GetTotalAllocatedBytes();
            if (now - allocated < QuietStepBytes)
            {
                break;
            }

            allocated = now;
        }

        Collect(logger);
    }

    /// <summary>
    /// One aggressive, compacting full collection that gives the free heap back. Start-up leaves garbage (bootstrap
    /// objects, schemas, informer lists) in every generation that an idle server would keep committed until the first
    /// period, so the composition calls this once everything beside the API server has settled.
    /// </summary>
    public static void Collect(ILogger logger)
    {
        var before = GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var after = GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes;
        LogTrimmed(logger, before >> 20, after >> 20);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Idle: heap trimmed from {Before} MB to {After} MB committed")]
    private static partial void LogTrimmed(ILogger logger, long before, long after);
}
