namespace Kubesharp.Storage.Sqlite;

/// <summary>Settings of the embedded SQLite store.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The database file; its directory is created when missing.</summary>
    public required string Path { get; init; }

    /// <summary>At most this many writes share one transaction (and one fsync).</summary>
    public int MaxWritesPerCommit { get; init; } = 1024;

    /// <summary>How often the store compacts its own history; <see cref="TimeSpan.Zero"/> turns automatic compaction off.</summary>
    public TimeSpan CompactionInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Automatic compaction keeps at least this many of the newest revisions.</summary>
    public long CompactionKeepRevisions { get; init; } = 10_000;

    /// <summary>Revisions compacted per writer transaction, so that compaction never holds the writer for long.</summary>
    public int CompactionBatchRevisions { get; init; } = 1_000;

    /// <summary>Events a watcher may have queued before it falls back to reading history from the database.</summary>
    public int WatchBufferBatches { get; init; } = 1_024;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
