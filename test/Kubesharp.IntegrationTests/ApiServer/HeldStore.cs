using Kubesharp.Storage;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// A real store that holds some of its calls until <see cref="Release"/>: paged lists after their first page (the API
/// server's cache load held half done), or creates of keys under a prefix (a write held in flight), for as long as a
/// test needs to look at the server in that state. Its watch can leave out one key's changes for good: a watch cache
/// that lags behind for that key.
/// </summary>
internal sealed class HeldStore(IStore inner, bool holdPagedLists = true, string? holdCreatesUnder = null, string? watchWithout = null) : IStore, IStoreHealth
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string? Problem => (inner as IStoreHealth)?.Problem;

    public void Release() => _released.TrySetResult();

    public async Task<ListResult> ListAsync(string prefix, ListOptions options, CancellationToken cancellationToken)
    {
        if (holdPagedLists && options.StartAfter is not null)
        {
            await _released.Task.WaitAsync(cancellationToken);
        }

        return await inner.ListAsync(prefix, options, cancellationToken);
    }

    public Task<long> GetCurrentRevisionAsync(CancellationToken cancellationToken) => inner.GetCurrentRevisionAsync(cancellationToken);

    public Task<KeyValue?> GetAsync(string key, long revision, CancellationToken cancellationToken) => inner.GetAsync(key, revision, cancellationToken);

    public async Task<KeyValue> CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        if (holdCreatesUnder is not null && key.StartsWith(holdCreatesUnder, StringComparison.Ordinal))
        {
            await _released.Task.WaitAsync(cancellationToken);
        }

        return await inner.CreateAsync(key, value, cancellationToken);
    }

    public Task<KeyValue> UpdateAsync(string key, ReadOnlyMemory<byte> value, long expectedModRevision, CancellationToken cancellationToken) =>
        inner.UpdateAsync(key, value, expectedModRevision, cancellationToken);

    public Task<KeyValue> DeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken) =>
        inner.DeleteAsync(key, expectedModRevision, cancellationToken);

    public IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken) =>
        watchWithout is null
            ? inner.WatchAsync(prefix, afterRevision, cancellationToken)
            : inner.WatchAsync(prefix, afterRevision, cancellationToken).Where(change => change.Current.Key != watchWithout);

    public Task CompactAsync(long revision, CancellationToken cancellationToken) => inner.CompactAsync(revision, cancellationToken);

    public Task<long> GetCompactedRevisionAsync(CancellationToken cancellationToken) => inner.GetCompactedRevisionAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        Release();
        await inner.DisposeAsync();
    }
}
