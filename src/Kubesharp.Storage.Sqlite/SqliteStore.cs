using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Kubesharp.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, one writer that assigns revisions and commits
/// queued writes in groups, watchers fed by the writer after each commit, readers on pooled connections.
/// </summary>
public sealed class SqliteStore : IStore, IStoreHealth
{
    private const int ReplayPageSize = 512;

    private readonly SqliteStoreOptions _options;
    private readonly FileStream _lock;
    private readonly string _readConnectionString;
    private readonly SqliteConnection _writeConnection;
    private readonly SqliteWriter _writer;
    private readonly WatchFanOut _fanOut = new();
    private readonly SemaphoreSlim _compactionGate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _compactor;
    private int _disposed;

    private SqliteStore(SqliteStoreOptions options, FileStream fileLock, string readConnectionString, SqliteConnection writeConnection)
    {
        _options = options;
        _lock = fileLock;
        _readConnectionString = readConnectionString;
        _writeConnection = writeConnection;
        _writer = new SqliteWriter(writeConnection, _fanOut, options.MaxWritesPerCommit);
    }

    public string Path => _options.Path;

    /// <inheritdoc/>
    public string? Problem => Volatile.Read(ref _disposed) != 0 ? "the store is closed" : _writer.Problem;

    internal long CommitCount => _writer.Commits;

    /// <summary>Opens (creating when missing) the store file and starts its writer and compactor.</summary>
    public static async Task<SqliteStore> OpenAsync(SqliteStoreOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var fullPath = System.IO.Path.GetFullPath(options.Path);
        if (System.IO.Path.GetDirectoryName(fullPath) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        var write = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        var read = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = true,
        }.ToString();

        var fileLock = AcquireLock(fullPath);
        var connection = new SqliteConnection(write);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await InitializeAsync(connection, cancellationToken).ConfigureAwait(false);
            var store = new SqliteStore(options, fileLock, read, connection);
            store.Start();
            return store;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            await fileLock.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The lock file that keeps a second store (in this or another process) off the database while this one has it open.</summary>
    public static string LockPath(string databasePath) => System.IO.Path.GetFullPath(databasePath) + ".lock";

    /// <summary>
    /// Takes the exclusive lock on <c>PATH.lock</c>, held until the store is disposed. On Linux an open
    /// with <see cref="FileShare.None"/> takes a non-blocking flock, which belongs to this open file: a
    /// second open fails at once, also within one process, and the kernel drops the lock when the
    /// process dies, so a crash never leaves a stale lock behind.
    /// </summary>
    /// <exception cref="DatastoreInUseException">Another store holds the lock.</exception>
    internal static FileStream AcquireLock(string databasePath)
    {
        var path = LockPath(databasePath);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1, FileOptions.None);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not PathTooLongException)
        {
            throw new DatastoreInUseException(System.IO.Path.GetFullPath(databasePath), e);
        }
    }

    private static async Task InitializeAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA application_id";
        var applicationId = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master";
        var objects = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        if (objects > 0 && applicationId != SqliteSchema.ApplicationId)
        {
            throw new StoreUnavailableException($"{connection.DataSource} is not a Kubesharp datastore");
        }

        command.CommandText = SqliteSchema.Create + SqliteSchema.ConnectionPragmas +
            $"PRAGMA application_id = {SqliteSchema.ApplicationId}; PRAGMA user_version = {SqliteSchema.Version};";
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Start()
    {
        _writer.Start();
        if (_options.CompactionInterval > TimeSpan.Zero)
        {
            _compactor = Task.Run(() => CompactPeriodicallyAsync(_stopping.Token));
        }
        else if (_writer.DurableCompactedThrough < _writer.CommittedCompactRevision)
        {
            // A compaction was cut short by a crash: finish removing its history.
            _compactor = Task.Run(() => CompactAsync(_writer.CommittedCompactRevision, _stopping.Token));
        }
    }

    public Task<long> GetCurrentRevisionAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return Task.FromResult(_writer.Revision);
    }

    public Task<long> GetCompactedRevisionAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return Task.FromResult(_writer.CommittedCompactRevision);
    }

    public Task<KeyValue> CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        CheckValue(key, value);
        return EnqueueAsync(new CreateOperation(key, value.ToArray()), cancellationToken);
    }

    public Task<KeyValue> UpdateAsync(string key, ReadOnlyMemory<byte> value, long expectedModRevision, CancellationToken cancellationToken)
    {
        CheckValue(key, value);
        return EnqueueAsync(new UpdateOperation(key, value.ToArray(), expectedModRevision), cancellationToken);
    }

    public Task<KeyValue> DeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return EnqueueAsync(new DeleteOperation(key, expectedModRevision), cancellationToken);
    }

    private static void CheckValue(string key, ReadOnlyMemory<byte> value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (value.Length > IStore.MaxValueBytes)
        {
            throw new ValueTooLargeException(key, value.Length);
        }
    }

    private Task<T> EnqueueAsync<T>(WriteOperation<T> operation, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Volatile.Read(ref _disposed) != 0 || !_writer.TryEnqueue(operation))
        {
            throw new StoreUnavailableException("the store is closed");
        }

        // Once queued the write happens regardless; cancellation only stops waiting for it.
        return operation.Task.WaitAsync(cancellationToken);
    }

    public async Task<KeyValue?> GetAsync(string key, long revision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ThrowIfDisposed();
        var durable = _writer.Revision;
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = connection.BeginTransaction(deferred: true);
        var at = ResolveRevision(connection, revision, durable);
        using var command = connection.CreateCommand();
        command.CommandText = SqliteSchema.SelectAtRevision;
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$rev", at);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false) || reader.GetInt64(2) != 0)
        {
            return null;
        }

        return new KeyValue(key, (byte[])reader.GetValue(3), reader.GetInt64(1), reader.GetInt64(0));
    }

    public async Task<ListResult> ListAsync(string prefix, ListOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfDisposed();
        var durable = _writer.Revision;
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = connection.BeginTransaction(deferred: true);
        var at = ResolveRevision(connection, options.Revision, durable);
        var range = KeyRange.ForPrefix(prefix);
        var start = options.StartAfter is { } after && string.CompareOrdinal(after, range.Start) >= 0 ? after : null;

        var items = new List<KeyValue>(options.Limit > 0 ? Math.Min(options.Limit, 4096) : 64);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = ListSql("a.key, a.value, a.create_revision, a.revision", range, start, options.Limit > 0 ? options.Limit + 1 : 0);
            AddListParameters(command, range, start, at);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                items.Add(new KeyValue(reader.GetString(0), (byte[])reader.GetValue(1), reader.GetInt64(2), reader.GetInt64(3)));
            }
        }

        if (options.Limit <= 0 || items.Count <= options.Limit)
        {
            return new ListResult(items, at, More: false, RemainingCount: 0);
        }

        items.RemoveAt(items.Count - 1);
        using (var count = connection.CreateCommand())
        {
            var last = items[^1].Key;
            count.CommandText = ListSql("COUNT(*)", range, last, 0, ordered: false);
            AddListParameters(count, range, last, at);
            var remaining = (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            return new ListResult(items, at, More: true, RemainingCount: remaining);
        }
    }

    private static string ListSql(string columns, KeyRange range, string? startAfter, int limit, bool ordered = true)
    {
        // The newest row of each key at or below $rev, unless that row is a tombstone; streams in key order.
        var sql = $"SELECT {columns} FROM kv AS a WHERE " +
            (startAfter is null ? "a.key >= $start" : "a.key > $start") +
            (range.End is null ? string.Empty : " AND a.key < $end") +
            " AND a.revision <= $rev AND a.deleted = 0" +
            " AND NOT EXISTS (SELECT 1 FROM kv AS b WHERE b.key = a.key AND b.revision > a.revision AND b.revision <= $rev)";
        if (ordered)
        {
            sql += " ORDER BY a.key";
        }

        if (limit > 0)
        {
            sql += $" LIMIT {limit}";
        }

        return sql;
    }

    private static void AddListParameters(SqliteCommand command, KeyRange range, string? startAfter, long revision)
    {
        command.Parameters.AddWithValue("$start", startAfter ?? range.Start);
        if (range.End is not null)
        {
            command.Parameters.AddWithValue("$end", range.End);
        }

        command.Parameters.AddWithValue("$rev", revision);
    }

    /// <summary>Reads the counters inside the caller's read transaction, so rows and counters come from one snapshot.</summary>
    private static (long Revision, long Compacted) ReadMeta(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = SqliteSchema.SelectMeta;
        using var reader = command.ExecuteReader();
        long revision = 0, compacted = 0;
        while (reader.Read())
        {
            switch (reader.GetString(0))
            {
                case "revision": revision = reader.GetInt64(1); break;
                case "compact_revision": compacted = reader.GetInt64(1); break;
            }
        }

        return (revision, compacted);
    }

    /// <summary>
    /// The revision a read runs at. Reads never go past <paramref name="durable"/> (taken before the read
    /// transaction began, so the snapshot holds it): a commit whose log flush is still running stays
    /// invisible until its writes are acknowledged.
    /// </summary>
    private static long ResolveRevision(SqliteConnection connection, long requested, long durable)
    {
        var (committed, compacted) = ReadMeta(connection);
        var revision = Math.Min(committed, durable);
        if (requested == 0)
        {
            return revision;
        }

        if (requested < compacted)
        {
            throw new CompactedException(requested, compacted);
        }

        if (requested > revision)
        {
            throw new FutureRevisionException(requested, revision);
        }

        return requested;
    }

    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ThrowIfDisposed();
        // Subscribe before reading history: every commit is then either in the history read or in the
        // subscription (or both, and the revision check drops the copy).
        var subscription = _fanOut.Subscribe(prefix, _options.WatchBufferBatches);
        try
        {
            var last = afterRevision;
            var replay = true;
            while (true)
            {
                if (replay)
                {
                    replay = false;
                    List<WatchEvent> page;
                    do
                    {
                        page = await ReadHistoryAsync(prefix, last, cancellationToken).ConfigureAwait(false);
                        foreach (var watchEvent in page)
                        {
                            yield return watchEvent;
                            last = watchEvent.Revision;
                        }
                    }
                    while (page.Count == ReplayPageSize);
                }

                if (subscription.Reader.TryRead(out var batch))
                {
                    foreach (var watchEvent in batch)
                    {
                        if (watchEvent.Revision > last)
                        {
                            yield return watchEvent;
                            last = watchEvent.Revision;
                        }
                    }

                    continue;
                }

                if (subscription.IsLagging)
                {
                    subscription.ClearLagging();
                    replay = true;
                    continue;
                }

                bool more;
                try
                {
                    more = await subscription.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    more = false;
                }

                if (!more)
                {
                    yield break;
                }
            }
        }
        finally
        {
            _fanOut.Unsubscribe(subscription);
        }
    }

    private async Task<List<WatchEvent>> ReadHistoryAsync(string prefix, long after, CancellationToken cancellationToken)
    {
        // Live events come only after the flush; history stops at the same point.
        var durable = _writer.Revision;
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = connection.BeginTransaction(deferred: true);
        var (_, compacted) = ReadMeta(connection);
        if (after < compacted)
        {
            throw new CompactedException(after + 1, compacted);
        }

        var range = KeyRange.ForPrefix(prefix);
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT a.revision, a.key, a.create_revision, a.deleted, a.value, p.revision, p.create_revision, p.deleted, p.value " +
            "FROM kv AS a LEFT JOIN kv AS p ON p.revision = a.prev_revision WHERE a.revision > $after AND a.revision <= $durable" +
            (range.Start.Length == 0 ? string.Empty : " AND a.key >= $start") +
            (range.End is null ? string.Empty : " AND a.key < $end") +
            $" ORDER BY a.revision LIMIT {ReplayPageSize}";
        command.Parameters.AddWithValue("$after", after);
        command.Parameters.AddWithValue("$durable", durable);
        command.Parameters.AddWithValue("$start", range.Start);
        if (range.End is not null)
        {
            command.Parameters.AddWithValue("$end", range.End);
        }

        var events = new List<WatchEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var key = reader.GetString(1);
            var revision = reader.GetInt64(0);
            var deleted = reader.GetInt64(3) != 0;
            KeyValue? previous = null;
            if (!reader.IsDBNull(5) && reader.GetInt64(7) == 0)
            {
                previous = new KeyValue(key, (byte[])reader.GetValue(8), reader.GetInt64(6), reader.GetInt64(5));
            }

            events.Add(deleted
                ? new WatchEvent(WatchEventType.Delete, new KeyValue(key, ReadOnlyMemory<byte>.Empty, 0, revision), previous)
                : new WatchEvent(WatchEventType.Put, new KeyValue(key, (byte[])reader.GetValue(4), reader.GetInt64(2), revision), previous));
        }

        return events;
    }

    public async Task CompactAsync(long revision, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var current = _writer.Revision;
        if (revision > current)
        {
            throw new FutureRevisionException(revision, current);
        }

        await _compactionGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var done = await EnqueueAsync(new MarkCompactedOperation(revision), cancellationToken).ConfigureAwait(false);
            var target = _writer.CommittedCompactRevision;
            var step = Math.Max(1, _options.CompactionBatchRevisions);
            while (done < target)
            {
                var through = Math.Min(target, done + step);
                await EnqueueAsync(new CompactRangeOperation(done, through), cancellationToken).ConfigureAwait(false);
                done = through;
            }
        }
        finally
        {
            _compactionGate.Release();
        }
    }

    /// <summary>Returns the pages freed by compaction to the file system and truncates the write-ahead log.</summary>
    public async Task ReclaimSpaceAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        // Small steps: each one holds the writer only briefly.
        while (await EnqueueAsync(new ReclaimSpaceOperation(1024, checkpoint: true), cancellationToken).ConfigureAwait(false) > 0)
        {
        }
    }

    private async Task CompactPeriodicallyAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.CompactionInterval, _options.TimeProvider);
        try
        {
            do
            {
                var target = _writer.Revision - _options.CompactionKeepRevisions;
                if (target > _writer.CommittedCompactRevision || _writer.DurableCompactedThrough < _writer.CommittedCompactRevision)
                {
                    await CompactAsync(Math.Max(target, _writer.CommittedCompactRevision), cancellationToken).ConfigureAwait(false);
                    await ReclaimSpaceAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (StorageException)
        {
            // The store is closing or the disk refused; the next open compacts again.
        }
    }

    /// <summary>Writes a consistent copy of the database to <paramref name="destination"/> while the store keeps serving.</summary>
    public async Task BackupAsync(string destination, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await SqliteBackup.VacuumIntoAsync(connection, destination, cancellationToken).ConfigureAwait(false);
    }

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_readConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (SqliteException e)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new StoreUnavailableException("cannot open the database", e);
        }
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new StoreUnavailableException("the store is closed");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_compactor is not null)
        {
            try
            {
                await _compactor.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        await _writer.StopAsync().ConfigureAwait(false);
        _fanOut.Close();
        _writer.Dispose();
        await _writeConnection.DisposeAsync().ConfigureAwait(false);
        using (var pooled = new SqliteConnection(_readConnectionString))
        {
            SqliteConnection.ClearPool(pooled);
        }

        _stopping.Dispose();
        _compactionGate.Dispose();
        await _lock.DisposeAsync().ConfigureAwait(false);
    }
}
