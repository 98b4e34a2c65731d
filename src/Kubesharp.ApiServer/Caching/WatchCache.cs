using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.Storage;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Caching;

/// <summary>
/// Keeps every resource's objects in memory, current through one store watch on /registry/: one revision clock
/// for all resources, so a write can wait until its revision is visible and reads stay consistent across resources.
/// Every group-resource found under /registry/ gets a cache, also one no definition serves yet: custom resources
/// appear and go at run time, and their objects are cached from the first one on.
/// </summary>
internal sealed partial class WatchCache : IAsyncDisposable
{
    public const string RegistryPrefix = "/registry/";

    private readonly IStore _store;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ResourceCache> _resources = new(StringComparer.Ordinal);
    private readonly int _historyLimit;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Writers waiting for their revision, soonest first: an advance wakes only those it satisfies, so many
    // concurrent writers do not all wake (and wait again) on every change.
    private readonly Lock _waitersGate = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _waiters = new();
    private long _revision;
    private volatile string? _watchFailure;
    private Task _loop = Task.CompletedTask;
    private Task _bookmarks = Task.CompletedTask;

    public WatchCache(IStore store, IEnumerable<ApiResource> resources, int historyLimit, ILogger<WatchCache> logger)
    {
        _store = store;
        _logger = logger;
        _historyLimit = historyLimit;
        foreach (var resource in resources)
        {
            _resources.TryAdd(resource.GroupResource, new ResourceCache(resource.GroupResource, historyLimit));
        }
    }

    /// <summary>The newest store revision whose changes every resource cache has applied.</summary>
    public long Revision => Volatile.Read(ref _revision);

    public Task Synced => _synced.Task;

    public IStore Store => _store;

    /// <summary>Null while every resource's cache is filled and following the store, else why not (readiness).</summary>
    public string? Problem => !_synced.Task.IsCompleted ? "the watch cache is loading the store" : _watchFailure;

    public ResourceCache For(ApiResource resource) => CacheOf(resource.GroupResource);

    /// <summary>How many objects each group-resource holds now (apiserver_storage_objects).</summary>
    public IEnumerable<(string GroupResource, int Count)> ObjectCounts()
    {
        foreach (var (name, cache) in _resources)
        {
            yield return (name, cache.Snapshot.Count);
        }
    }

    /// <summary>How many objects a group-resource holds now; null when it has no cache (none is made for the asking).</summary>
    public int? CountOf(string groupResource) => _resources.TryGetValue(groupResource, out var cache) ? cache.Snapshot.Count : null;

    /// <summary>The cache of a group-resource by name ("pods", "deployments.apps").</summary>
    public ResourceCache For(string groupResource) => CacheOf(groupResource);

    /// <summary>
    /// The cache of a group-resource, made empty at the current revision when it has none yet: no object of it was
    /// stored, or it would have one, so every later change reaches it.
    /// </summary>
    private ResourceCache CacheOf(string groupResource)
    {
        if (_resources.TryGetValue(groupResource, out var cache))
        {
            return cache;
        }

        lock (_waitersGate)
        {
            return _resources.GetOrAdd(groupResource, name =>
            {
                var created = new ResourceCache(name, _historyLimit);
                created.Reset([], Revision);
                return created;
            });
        }
    }

    public static string KeyPrefix(ApiResource resource) => RegistryPrefix + resource.GroupResource + "/";

    public static string Key(ApiResource resource, string? @namespace, string name) =>
        resource.Namespaced ? $"{RegistryPrefix}{resource.GroupResource}/{@namespace}/{name}" : $"{RegistryPrefix}{resource.GroupResource}/{name}";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var revision = await FillAsync(cancellationToken).ConfigureAwait(false);
        _synced.TrySetResult();
        _loop = Task.Run(() => WatchLoopAsync(revision, _stopping.Token), CancellationToken.None);
        _bookmarks = Task.Run(() => BookmarkLoopAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Waits until changes up to <paramref name="revision"/> are visible in the cache.</summary>
    public Task WaitForRevisionAsync(long revision, CancellationToken cancellationToken)
    {
        if (Revision >= revision)
        {
            return Task.CompletedTask;
        }

        TaskCompletionSource waiter;
        lock (_waitersGate)
        {
            // Checked again under the lock that SetRevision takes after publishing: no advance is missed.
            if (Revision >= revision)
            {
                return Task.CompletedTask;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(waiter, revision);
        }

        // A cancelled wait stays queued until the revision passes; completing it then is harmless.
        return cancellationToken.CanBeCanceled ? waiter.Task.WaitAsync(cancellationToken) : waiter.Task;
    }

    private async Task<long> FillAsync(CancellationToken cancellationToken)
    {
        var byResource = new Dictionary<string, List<CachedObject>>(StringComparer.Ordinal);
        var corrupt = new Dictionary<string, List<CorruptObject>>(StringComparer.Ordinal);
        long revision = 0;
        string? after = null;
        while (true)
        {
            var page = await _store.ListAsync(RegistryPrefix, new ListOptions(revision, 5000, after), cancellationToken).ConfigureAwait(false);
            revision = page.Revision;
            foreach (var kv in page.Items)
            {
                if (ResourceOf(kv.Key, create: true) is { } cache)
                {
                    if (!byResource.TryGetValue(cache.GroupResource, out var list))
                    {
                        byResource[cache.GroupResource] = list = [];
                    }

                    try
                    {
                        list.Add(CachedObject.FromStored(kv.Key, kv.Value.Span, kv.ModRevision));
                    }
                    catch (System.Text.Json.JsonException ex)
                    {
                        LogUndecodable(_logger, kv.Key, ex);
                        if (!corrupt.TryGetValue(cache.GroupResource, out var unreadable))
                        {
                            corrupt[cache.GroupResource] = unreadable = [];
                        }

                        unreadable.Add(new CorruptObject(kv.Key, Undecodable(ex), kv.ModRevision));
                    }
                }

                after = kv.Key;
            }

            if (!page.More || page.Items.Count == 0)
            {
                break;
            }
        }

        foreach (var (name, cache) in _resources)
        {
            cache.Reset(byResource.TryGetValue(name, out var list) ? list : [], revision, corrupt.GetValueOrDefault(name));
        }

        SetRevision(revision);
        return revision;
    }

    private ResourceCache? ResourceOf(string key, bool create)
    {
        if (!key.StartsWith(RegistryPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var end = key.IndexOf('/', RegistryPrefix.Length);
        if (end < 0)
        {
            return null;
        }

        var groupResource = key[RegistryPrefix.Length..end];
        return create ? CacheOf(groupResource) : _resources.GetValueOrDefault(groupResource);
    }

    private async Task WatchLoopAsync(long revision, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                _watchFailure = null;
                await foreach (var change in _store.WatchAsync(RegistryPrefix, revision, cancellationToken).ConfigureAwait(false))
                {
                    Dispatch(change);
                    revision = change.Revision;
                    SetRevision(revision);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _watchFailure = $"the store watch failed, resuming: {ex.Message}";
                LogWatchFailed(_logger, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
                    if (ex is CompactedException)
                    {
                        revision = await FillAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception refill)
                {
                    LogWatchFailed(_logger, refill);
                }
            }
        }
    }

    private void Dispatch(WatchEvent change)
    {
        var key = change.Current.Key;
        var cache = ResourceOf(key, create: change.Type != WatchEventType.Delete);
        if (cache is null)
        {
            return;
        }

        if (change.Type == WatchEventType.Delete)
        {
            if (cache.CorruptAt(key) is not null)
            {
                // Its watchers were ended when it became unreadable and never saw it since: nothing to tell them.
                cache.ClearCorrupt(key, change.Revision);
            }
            else if (cache.Get(key) is { } previous)
            {
                cache.Apply(new CacheEvent(CacheEventType.Deleted, change.Revision, previous.WithRevision(change.Revision), previous));
            }

            return;
        }

        if (change.Current.ReadError is { } readError)
        {
            // One unreadable value must not stop the changes behind it: it is recorded, and requests that reach it fail.
            LogUnreadable(_logger, key, readError);
            cache.MarkCorrupt(new CorruptObject(key, $"data from the storage is not transformable revision={change.Current.ModRevision}: {readError}", change.Current.ModRevision), change.Revision);
            return;
        }

        CachedObject current;
        try
        {
            current = CachedObject.FromStored(key, change.Current.Value.Span, change.Current.ModRevision);
        }
        catch (System.Text.Json.JsonException ex)
        {
            LogUndecodable(_logger, key, ex);
            cache.MarkCorrupt(new CorruptObject(key, Undecodable(ex), change.Current.ModRevision), change.Revision);
            return;
        }

        var existing = cache.Get(key);
        cache.Apply(new CacheEvent(existing is null ? CacheEventType.Added : CacheEventType.Modified, change.Revision, current, existing));
    }

    private static string Undecodable(System.Text.Json.JsonException ex) => $"object not decodable: {ex.Message}";

    private void SetRevision(long revision)
    {
        Volatile.Write(ref _revision, revision);
        lock (_waitersGate)
        {
            while (_waiters.TryPeek(out var waiter, out var wanted) && wanted <= revision)
            {
                _waiters.Dequeue();
                waiter.TrySetResult();
            }
        }
    }

    private async Task BookmarkLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(30));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var revision = Revision;
                foreach (var cache in _resources.Values)
                {
                    cache.Bookmark(revision);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loop, _bookmarks).ConfigureAwait(false);
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store watch failed; resuming")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stored value under {Key} cannot be read ({Reason}); requests reaching it fail until it is deleted")]
    private static partial void LogUnreadable(ILogger logger, string key, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stored value under {Key} is not a JSON object; requests reaching it fail until it is deleted")]
    private static partial void LogUndecodable(ILogger logger, string key, Exception exception);
}
