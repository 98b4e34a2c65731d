using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Memory;

/// <summary>
/// How a Kubesharp process keeps its memory near what it holds: the young generation bounded while it allocates
/// slowly (<see cref="YoungGenerationCap"/>) and the heap given back once a burst is over (<see cref="IdleMemoryTrimmer"/>).
/// The API server runs it; a <c>kubesharp agent</c> process, which holds no server, runs it too.
/// </summary>
public static class ProcessMemory
{
    /// <summary>How often the heap is looked at for a trim: an idle process gives a burst's memory back within this.</summary>
    public static readonly TimeSpan TrimPeriod = TimeSpan.FromSeconds(20);

    /// <summary>How often the young generation is looked at: a quiet process holds at most one period's garbage beyond the cap.</summary>
    public static readonly TimeSpan YoungGenerationPeriod = TimeSpan.FromSeconds(1);

    /// <summary>Both policies until <paramref name="cancellationToken"/> ends them.</summary>
    public static Task RunAsync(TimeProvider timeProvider, ILogger logger, CancellationToken cancellationToken) =>
        Task.WhenAll(
            IdleMemoryTrimmer.RunAsync(TrimPeriod, timeProvider, logger, cancellationToken),
            YoungGenerationCap.ForProcess().RunAsync(YoungGenerationPeriod, timeProvider, cancellationToken));

    /// <summary>
    /// Gives back the garbage of start-up (one compacting collection) once the process has gone quiet, within a few
    /// seconds; called once the process's components have synced, off the path to readiness.
    /// </summary>
    public static Task ReleaseStartupMemoryAsync(TimeProvider timeProvider, ILogger logger, CancellationToken cancellationToken) =>
        IdleMemoryTrimmer.CollectWhenQuietAsync(TimeSpan.FromSeconds(2), timeProvider, logger, cancellationToken);
}
