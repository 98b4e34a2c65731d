using System.Diagnostics;
using System.Runtime.CompilerServices;
using Kubesharp.Storage;

namespace Kubesharp.ApiServer.Metrics;

/// <summary>
/// The store as the API server sees it, timing every call into etcd_request_duration_seconds and
/// etcd_requests_total by operation and group-resource, as upstream's storage layer does for either backend.
/// </summary>
internal sealed class MeasuredStore(IStore inner, ApiServerMetrics metrics) : IStore, IStoreHealth
{
    public IStore Inner => inner;

    public string? Problem => (inner as IStoreHealth)?.Problem;

    public Task<long> GetCurrentRevisionAsync(CancellationToken cancellationToken) =>
        MeasureAsync("getCurrentResourceVersion", string.Empty, Stopwatch.GetTimestamp(), inner.GetCurrentRevisionAsync(cancellationToken));

    public Task<KeyValue?> GetAsync(string key, long revision, CancellationToken cancellationToken) =>
        MeasureAsync("get", key, Stopwatch.GetTimestamp(), inner.GetAsync(key, revision, cancellationToken));

    public Task<ListResult> ListAsync(string prefix, ListOptions options, CancellationToken cancellationToken) =>
        MeasureAsync("list", prefix, Stopwatch.GetTimestamp(), inner.ListAsync(prefix, options, cancellationToken));

    public Task<KeyValue> CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken) =>
        MeasureAsync("create", key, Stopwatch.GetTimestamp(), inner.CreateAsync(key, value, cancellationToken));

    public Task<KeyValue> UpdateAsync(string key, ReadOnlyMemory<byte> value, long expectedModRevision, CancellationToken cancellationToken) =>
        MeasureAsync("update", key, Stopwatch.GetTimestamp(), inner.UpdateAsync(key, value, expectedModRevision, cancellationToken));

    public Task<KeyValue> DeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken) =>
        MeasureAsync("delete", key, Stopwatch.GetTimestamp(), inner.DeleteAsync(key, expectedModRevision, cancellationToken));

    public IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken)
    {
        metrics.Store("watch", prefix).Total.Inc();
        return inner.WatchAsync(prefix, afterRevision, cancellationToken);
    }

    public Task CompactAsync(long revision, CancellationToken cancellationToken) =>
        MeasureAsync("compact", string.Empty, Stopwatch.GetTimestamp(), inner.CompactAsync(revision, cancellationToken));

    public Task<long> GetCompactedRevisionAsync(CancellationToken cancellationToken) =>
        MeasureAsync("getCompactedRevision", string.Empty, Stopwatch.GetTimestamp(), inner.GetCompactedRevisionAsync(cancellationToken));

    // The store is owned by whoever opened it; the API server only borrows it.
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<T> MeasureAsync<T>(string operation, string key, long started, Task<T> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        finally
        {
            Observe(operation, key, started);
        }
    }

    private async Task MeasureAsync(string operation, string key, long started, Task call)
    {
        try
        {
            await call.ConfigureAwait(false);
        }
        finally
        {
            Observe(operation, key, started);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Observe(string operation, string key, long started)
    {
        var series = metrics.Store(operation, key);
        series.Total.Inc();
        series.Duration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
