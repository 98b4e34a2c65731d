using Kubesharp.ControllerManager.CronJobs;
using Kubesharp.Storage;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Snapshots;

/// <summary>
/// The server's scheduled snapshots (<c>--snapshot-schedule</c>, five cron fields in UTC, parsed as CronJob schedules
/// are): at each time a snapshot of the open store named scheduled-…, then the oldest scheduled ones beyond
/// <c>--snapshot-retention</c> are deleted. A failed snapshot is logged and the next time tried again.
/// </summary>
internal sealed partial class SnapshotScheduler(DatastoreSnapshots snapshots, IStore store, string schedule, int retention, TimeProvider timeProvider, ILogger logger)
{
    /// <summary>Checks a schedule; null when it is valid, else what is wrong.</summary>
    public static string? Validate(string schedule)
    {
        CronJobSchedule.TryParse(schedule, timeZone: null, out var error);
        return error;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var parsed = CronJobSchedule.TryParse(schedule, timeZone: null, out var error)
            ?? throw new FormatException($"--snapshot-schedule {schedule}: {error}");
        var after = timeProvider.GetUtcNow();
        while (!cancellationToken.IsCancellationRequested)
        {
            if (parsed.Next(after) is not { } next)
            {
                return;
            }

            try
            {
                var wait = next - timeProvider.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, timeProvider, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // The next time is computed from this one, not from the clock, so a timer that fires early never repeats it.
            after = next;
            try
            {
                var saved = await snapshots.SaveAsync(store, DatastoreSnapshots.ScheduledPrefix, cancellationToken).ConfigureAwait(false);
                LogSaved(logger, saved.Name, saved.Size);
                foreach (var pruned in snapshots.Prune(DatastoreSnapshots.ScheduledPrefix, retention))
                {
                    LogPruned(logger, pruned.Name, retention);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
            {
                LogFailed(logger, e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Saved datastore snapshot {Name} ({Bytes} bytes)")]
    private static partial void LogSaved(ILogger logger, string name, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted datastore snapshot {Name} (retention {Retention})")]
    private static partial void LogPruned(ILogger logger, string name, int retention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduled datastore snapshot failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
