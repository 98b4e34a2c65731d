using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Kubesharp.Storage.Sqlite;

/// <summary>
/// The only connection that writes. It assigns revisions and drains every queued write into one
/// transaction (group commit). Commits are made durable by a second loop, which flushes the
/// write-ahead log once for every transaction committed since its last flush and only then
/// acknowledges the writes and hands their events to the watchers; meanwhile the writer already builds
/// the next transaction, so a flush and the next batch overlap.
/// </summary>
/// <remarks>
/// The connection runs with synchronous=NORMAL, under which SQLite itself syncs only around checkpoints
/// (the log before pages are copied out of it, the database file before the log is reused); the flush
/// of the log after each commit supplies the one sync that NORMAL leaves out, so an acknowledged write
/// survives power loss as it would under FULL.
/// </remarks>
internal sealed class SqliteWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly WatchFanOut _fanOut;
    private readonly int _maxBatch;
    private readonly Channel<WriteOperation> _queue = Channel.CreateUnbounded<WriteOperation>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly Channel<CommittedGroup> _committed = Channel.CreateUnbounded<CommittedGroup>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = false });

    private readonly WalFile _wal;
    private readonly string _databasePath;

    private readonly SqliteCommand _selectLatest;
    private readonly SqliteParameter _selectLatestKey;
    private readonly SqliteCommand _insert;
    private readonly SqliteParameter _insertRevision;
    private readonly SqliteParameter _insertKey;
    private readonly SqliteParameter _insertCreate;
    private readonly SqliteParameter _insertPrevious;
    private readonly SqliteParameter _insertDeleted;
    private readonly SqliteParameter _insertValue;
    private readonly SqliteCommand _setMeta;
    private readonly SqliteParameter _setMetaName;
    private readonly SqliteParameter _setMetaValue;

    // Durable state, published by the flush loop; any thread reads it.
    private long _revision;
    private long _compactRevision;
    private long _compactedThrough;

    // The writer loop's own state: committed (perhaps not yet durable) and inside the open transaction.
    private long _committedRevision;
    private long _pendingRevision;
    private long _committedCompactRevision;
    private long _pendingCompactRevision;
    private long _committedCompactedThrough;
    private long _pendingCompactedThrough;

    private Task? _loop;
    private Task? _flushLoop;
    private long _commits;
    private StoreUnavailableException? _flushFailure;

    public SqliteWriter(SqliteConnection connection, WatchFanOut fanOut, int maxBatch)
    {
        _connection = connection;
        _fanOut = fanOut;
        _maxBatch = Math.Max(1, maxBatch);

        using (var read = connection.CreateCommand())
        {
            read.CommandText = SqliteSchema.SelectMeta;
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                var value = reader.GetInt64(1);
                switch (reader.GetString(0))
                {
                    case "revision": _revision = value; break;
                    case "compact_revision": _compactRevision = value; break;
                    case "compacted_through": _compactedThrough = value; break;
                }
            }
        }

        using (var max = connection.CreateCommand())
        {
            // The counter is written in the same transaction as the rows; the maximum guards against a file edited by hand.
            max.CommandText = "SELECT COALESCE(MAX(revision), 0) FROM kv";
            _revision = Math.Max(_revision, (long)max.ExecuteScalar()!);
        }

        _pendingRevision = _committedRevision = _revision;
        _pendingCompactRevision = _committedCompactRevision = _compactRevision;
        _pendingCompactedThrough = _committedCompactedThrough = _compactedThrough;
        _databasePath = connection.DataSource;
        _wal = new WalFile(connection.DataSource);

        // A previous process may have committed without living to flush; what it left is served as durable only once flushed.
        _wal.Flush();

        _selectLatest = connection.CreateCommand();
        _selectLatest.CommandText = SqliteSchema.SelectLatest;
        _selectLatestKey = _selectLatest.Parameters.Add("$key", SqliteType.Text);

        _insert = connection.CreateCommand();
        _insert.CommandText = SqliteSchema.Insert;
        _insertRevision = _insert.Parameters.Add("$rev", SqliteType.Integer);
        _insertKey = _insert.Parameters.Add("$key", SqliteType.Text);
        _insertCreate = _insert.Parameters.Add("$create", SqliteType.Integer);
        _insertPrevious = _insert.Parameters.Add("$prev", SqliteType.Integer);
        _insertDeleted = _insert.Parameters.Add("$deleted", SqliteType.Integer);
        _insertValue = _insert.Parameters.Add("$value", SqliteType.Blob);

        _setMeta = connection.CreateCommand();
        _setMeta.CommandText = SqliteSchema.SetMeta;
        _setMetaName = _setMeta.Parameters.Add("$name", SqliteType.Text);
        _setMetaValue = _setMeta.Parameters.Add("$value", SqliteType.Integer);
    }

    /// <summary>The newest durable revision: every write at or below it is acknowledged or about to be.</summary>
    public long Revision => Volatile.Read(ref _revision);

    /// <summary>The compacted revision as seen by the writer (inside a transaction: including uncommitted changes).</summary>
    public long CompactRevision => _pendingCompactRevision;

    /// <summary>The durable compacted revision.</summary>
    public long CommittedCompactRevision => Volatile.Read(ref _compactRevision);

    /// <summary>Inside a writer transaction: the revision up to which history is removed, including uncommitted changes.</summary>
    public long CompactedThrough => _pendingCompactedThrough;

    /// <summary>The durable revision up to which history is removed.</summary>
    public long DurableCompactedThrough => Volatile.Read(ref _compactedThrough);

    /// <summary>Transactions committed so far; concurrent writes share them.</summary>
    public long Commits => Volatile.Read(ref _commits);

    public void Start()
    {
        _flushLoop = Task.Run(FlushAsync);
        _loop = Task.Run(RunAsync);
    }

    public bool TryEnqueue(WriteOperation operation) => _queue.Writer.TryWrite(operation);

    /// <summary>Why writes are refused (a failed log flush, the database file gone), or null.</summary>
    public string? Problem => CheckFiles()?.Message;

    /// <summary>
    /// Whether the database file is still where the store opened it. Once it is removed (or its directory is),
    /// SQLite goes on writing to the unlinked file and a restart would lose everything since: from then on every
    /// write is refused.
    /// </summary>
    private StoreUnavailableException? CheckFiles()
    {
        if (Volatile.Read(ref _flushFailure) is { } failure)
        {
            return failure;
        }

        if (File.Exists(_databasePath))
        {
            return null;
        }

        var gone = new StoreUnavailableException($"the database file {_databasePath} was removed while in use; writes are refused because a restart would lose them");
        Interlocked.CompareExchange(ref _flushFailure, gone, null);
        return Volatile.Read(ref _flushFailure);
    }

    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _committed.Writer.TryComplete();
        if (_flushLoop is not null)
        {
            await _flushLoop.ConfigureAwait(false);
        }
    }

    public StoredRow? ReadLatest(string key)
    {
        _selectLatestKey.Value = key;
        using var reader = _selectLatest.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new StoredRow(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2) != 0, (byte[])reader.GetValue(3));
    }

    public long NextRevision() => ++_pendingRevision;

    public void Insert(long revision, string key, long createRevision, long previousRevision, bool deleted, byte[] value)
    {
        _insertRevision.Value = revision;
        _insertKey.Value = key;
        _insertCreate.Value = createRevision;
        _insertPrevious.Value = previousRevision;
        _insertDeleted.Value = deleted ? 1 : 0;
        _insertValue.Value = value;
        _insert.ExecuteNonQuery();
    }

    public void SetCompactRevision(long revision)
    {
        SetMeta("compact_revision", revision);
        _pendingCompactRevision = revision;
    }

    public long CompactRange(long after, long through)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = SqliteSchema.CompactRange;
        command.Parameters.AddWithValue("$lo", after);
        command.Parameters.AddWithValue("$hi", through);
        var removed = command.ExecuteNonQuery();
        if (through > _pendingCompactedThrough)
        {
            SetMeta("compacted_through", through);
            _pendingCompactedThrough = through;
        }

        return removed;
    }

    public long ReclaimSpace(int pages, bool checkpoint)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"PRAGMA incremental_vacuum({pages}); ";
        command.ExecuteNonQuery();
        command.CommandText = "PRAGMA freelist_count";
        var free = (long)command.ExecuteScalar()!;
        if (checkpoint && free == 0)
        {
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            command.ExecuteNonQuery();
        }

        return free;
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void SetMeta(string name, long value)
    {
        _setMetaName.Value = name;
        _setMetaValue.Value = value;
        _setMeta.ExecuteNonQuery();
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<WriteOperation>(_maxBatch);
        var events = new List<WatchEvent>(_maxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < _maxBatch && reader.TryRead(out var operation))
            {
                if (operation.RunsOutsideTransaction)
                {
                    Commit(batch, events);
                    RunAlone(operation);
                    continue;
                }

                batch.Add(operation);
            }

            Commit(batch, events);
        }
    }

    private void RunAlone(WriteOperation operation)
    {
        Exception? failure = _flushFailure;
        if (failure is null)
        {
            try
            {
                operation.Apply(this, []);
            }
            catch (Exception e) when (e is SqliteException or StorageException)
            {
                failure = e is StorageException ? e : new StoreUnavailableException("database maintenance failed", e);
            }
        }

        // What maintenance wrote is acknowledged, like any commit, once the log is flushed.
        _committed.Writer.TryWrite(new CommittedGroup([operation], [failure], [], _committedRevision, _committedCompactRevision, _committedCompactedThrough));
    }

    private void Commit(List<WriteOperation> batch, List<WatchEvent> events)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var failures = new Exception?[batch.Count];
        try
        {
            if (Volatile.Read(ref _flushFailure) is { } broken)
            {
                throw broken;
            }

            // Plain BEGIN/COMMIT statements: the prepared commands stay usable inside and outside transactions.
            Execute("BEGIN IMMEDIATE");
            try
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    try
                    {
                        batch[i].Apply(this, events);
                    }
                    catch (StorageException e)
                    {
                        failures[i] = e;
                    }
                }

                if (_pendingRevision != _committedRevision)
                {
                    SetMeta("revision", _pendingRevision);
                }

                Execute("COMMIT");
            }
            catch
            {
                if (SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) == 0)
                {
                    Execute("ROLLBACK");
                }

                throw;
            }

            Interlocked.Increment(ref _commits);
            _committedRevision = _pendingRevision;
            _committedCompactRevision = _pendingCompactRevision;
            _committedCompactedThrough = _pendingCompactedThrough;
            _committed.Writer.TryWrite(new CommittedGroup(
                [.. batch], failures, [.. events], _committedRevision, _committedCompactRevision, _committedCompactedThrough));
        }
        catch (Exception e)
        {
            // Nothing of the batch is durable: the transaction rolled back and no revision was used.
            _pendingRevision = _committedRevision;
            _pendingCompactRevision = _committedCompactRevision;
            _pendingCompactedThrough = _committedCompactedThrough;
            var unavailable = e as StoreUnavailableException ?? new StoreUnavailableException("the database refused the write", e);
            foreach (var operation in batch)
            {
                operation.Fail(unavailable);
            }
        }
        finally
        {
            batch.Clear();
            events.Clear();
        }
    }

    /// <summary>
    /// Flushes the log once for every group of transactions committed since the previous flush, then,
    /// in commit order, publishes their revisions, feeds the watchers and acknowledges the writes.
    /// </summary>
    private async Task FlushAsync()
    {
        var reader = _committed.Reader;
        var groups = new List<CommittedGroup>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var group))
            {
                groups.Add(group);
            }

            var failure = _flushFailure;
            if (failure is null)
            {
                try
                {
                    _wal.Flush();
                }
                catch (IOException e)
                {
                    // After a failed flush the kernel may have dropped the dirty pages: nothing after this point can be trusted.
                    failure = new StoreUnavailableException("the write-ahead log could not be made durable", e);
                    Volatile.Write(ref _flushFailure, failure);
                }

                // Checked after the flush, before anything is acknowledged: a write that reached only an unlinked file is refused.
                failure ??= CheckFiles();
            }

            foreach (var group in groups)
            {
                if (failure is null)
                {
                    Volatile.Write(ref _revision, group.Revision);
                    Volatile.Write(ref _compactRevision, group.CompactRevision);
                    Volatile.Write(ref _compactedThrough, group.CompactedThrough);
                    _fanOut.Publish(group.Events);
                }

                for (var i = 0; i < group.Operations.Length; i++)
                {
                    if ((failure ?? group.Failures[i]) is { } error)
                    {
                        group.Operations[i].Fail(error);
                    }
                    else
                    {
                        group.Operations[i].Succeed();
                    }
                }
            }

            groups.Clear();
        }
    }

    /// <summary>One committed transaction waiting for the log flush that makes it durable.</summary>
    private sealed record CommittedGroup(
        WriteOperation[] Operations,
        Exception?[] Failures,
        WatchEvent[] Events,
        long Revision,
        long CompactRevision,
        long CompactedThrough);

    public void Dispose()
    {
        _selectLatest.Dispose();
        _insert.Dispose();
        _setMeta.Dispose();
        _wal.Dispose();
    }
}
