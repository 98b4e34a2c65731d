namespace Kubesharp.Storage.Sqlite;

/// <summary>A change queued for the single writer; many share one transaction and one fsync.</summary>
internal abstract class WriteOperation
{
    /// <summary>Maintenance that SQLite refuses inside a transaction (checkpoint, incremental vacuum).</summary>
    public virtual bool RunsOutsideTransaction => false;

    /// <summary>Applies the change inside the open transaction; a <see cref="StorageException"/> fails only this operation.</summary>
    public abstract void Apply(SqliteWriter writer, List<WatchEvent> events);

    public abstract void Succeed();

    public abstract void Fail(Exception exception);
}

internal abstract class WriteOperation<T> : WriteOperation
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    public Task<T> Task => _completion.Task;

    public sealed override void Apply(SqliteWriter writer, List<WatchEvent> events) => _result = Execute(writer, events);

    protected abstract T Execute(SqliteWriter writer, List<WatchEvent> events);

    public sealed override void Succeed() => _completion.TrySetResult(_result!);

    public sealed override void Fail(Exception exception) => _completion.TrySetException(exception);
}
