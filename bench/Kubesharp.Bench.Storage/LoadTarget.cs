namespace Kubesharp.Bench.Storage;

/// <summary>What the load generator drives: a store backend, or etcd spoken to directly.</summary>
internal abstract class LoadTarget : IAsyncDisposable
{
    public abstract string Name { get; }

    public abstract Task CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken);

    public abstract Task<int> ListAsync(string prefix, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}
