using Kubesharp.Storage;

namespace Kubesharp.Bench.Storage;

internal sealed class StoreTarget(string name, IStore store) : LoadTarget
{
    public IStore Store => store;

    public override string Name => name;

    public override Task CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken) =>
        store.CreateAsync(key, value, cancellationToken);

    public override async Task<int> ListAsync(string prefix, CancellationToken cancellationToken) =>
        (await store.ListAsync(prefix, new ListOptions(), cancellationToken)).Items.Count;

    public override ValueTask DisposeAsync() => store.DisposeAsync();
}
