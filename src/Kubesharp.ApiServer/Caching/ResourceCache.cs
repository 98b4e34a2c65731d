using System.Collections.Immutable;
using System.Threading.Channels;

namespace Kubesharp.ApiServer.Caching;

/// <summary>
/// The current objects of one group-resource plus a bounded history of its changes for resuming watches.
/// Readers take lock-free snapshots; the single store-watch loop applies changes.
/// </summary>
internal sealed class ResourceCache
{
    private readonly Lock _gate = new();
    private readonly Queue<CacheEvent> _history = new();
    private readonly int _historyLimit;
    private readonly List<CacheSubscription> _subscriptions = [];
    private long _lastRevision;
    private ImmutableSortedDictionary<string, CachedObject> _objects = ImmutableSortedDictionary.Create<string, CachedObject>(StringComparer.Ordinal);
    private ImmutableSortedDictionary<string, CorruptObject> _corrupt = ImmutableSortedDictionary.Create<string, CorruptObject>(StringComparer.Ordinal);

    /// <summary>
    /// The same objects split by namespace, so that a namespace's list, watch or clean-up reads only that namespace
    /// rather than every object of the resource. Keys are the full keys, so each namespace's order is the store's.
    /// </summary>
    private ImmutableDictionary<string, ImmutableSortedDictionary<string, CachedObject>> _byNamespace = ImmutableDictionary.Create<string, ImmutableSortedDictionary<string, CachedObject>>(StringComparer.Ordinal);

    private static readonly ImmutableSortedDictionary<string, CachedObject> NoObjects = ImmutableSortedDictionary.Create<string, CachedObject>(StringComparer.Ordinal);

    /// <summary>Length of the resource's key prefix, after which a namespaced key holds "namespace/name".</summary>
    private readonly int _keyPrefixLength;

    public ResourceCache(string groupResource, int historyLimit)
    {
        GroupResource = groupResource;
        _historyLimit = historyLimit;
        _keyPrefixLength = WatchCache.RegistryPrefix.Length + groupResource.Length + 1;
    }

    public string GroupResource { get; }

    /// <summary>Every change with a revision above this one is in the history.</summary>
    public long HistoryStartRevision { get; private set; }

    public ImmutableSortedDictionary<string, CachedObject> Snapshot => Volatile.Read(ref _objects);

    /// <summary>The objects of one namespace (none for a cluster-scoped resource), in key order.</summary>
    public ImmutableSortedDictionary<string, CachedObject> InNamespace(string @namespace) =>
        Volatile.Read(ref _byNamespace).TryGetValue(@namespace, out var objects) ? objects : NoObjects;

    /// <summary>
    /// The objects, of one namespace or all, and the revision they are consistent at, given the global cache revision
    /// read just before: the later of it and this resource's last applied change.
    /// </summary>
    public (ImmutableSortedDictionary<string, CachedObject> Objects, long Revision) SnapshotAt(long globalRevision, string? @namespace = null)
    {
        lock (_gate)
        {
            return (@namespace is null ? _objects : InNamespace(@namespace), Math.Max(globalRevision, _lastRevision));
        }
    }

    public CachedObject? Get(string key) => Snapshot.TryGetValue(key, out var value) ? value : null;

    /// <summary>Keys whose stored value the server cannot read (undecryptable or undecodable), in key order.</summary>
    public ImmutableSortedDictionary<string, CorruptObject> Corrupt => Volatile.Read(ref _corrupt);

    public CorruptObject? CorruptAt(string key) => Corrupt.TryGetValue(key, out var corrupt) ? corrupt : null;

    /// <summary>The unreadable keys under a key prefix (a namespace's, or the whole resource's).</summary>
    public IEnumerable<CorruptObject> CorruptUnder(string prefix)
    {
        var corrupt = Corrupt;
        return corrupt.IsEmpty ? [] : corrupt.Values.Where(c => c.Key.StartsWith(prefix, StringComparison.Ordinal));
    }

    /// <summary>
    /// Records that the value stored under a key cannot be read. What the cache held for it goes, and every watch
    /// of the resource ends with its history: a client must list again, and that list reports the key, rather than
    /// carry on with an object the server can no longer vouch for.
    /// </summary>
    public void MarkCorrupt(CorruptObject corrupt, long revision)
    {
        lock (_gate)
        {
            if (_objects.TryGetValue(corrupt.Key, out var held))
            {
                Volatile.Write(ref _objects, _objects.Remove(corrupt.Key));
                Index(held, removed: true);
            }

            Volatile.Write(ref _corrupt, _corrupt.SetItem(corrupt.Key, corrupt));
            _lastRevision = revision;
            _history.Clear();
            HistoryStartRevision = revision;
            foreach (var s in _subscriptions)
            {
                s.Channel.Writer.TryComplete();
            }

            _subscriptions.Clear();
        }
    }

    /// <summary>The unreadable value under a key was deleted (or written anew, which <see cref="Apply"/> reports).</summary>
    public void ClearCorrupt(string key, long revision)
    {
        lock (_gate)
        {
            Volatile.Write(ref _corrupt, _corrupt.Remove(key));
            _lastRevision = Math.Max(_lastRevision, revision);
        }
    }

    public int SubscriberCount
    {
        get
        {
            lock (_gate)
            {
                return _subscriptions.Count;
            }
        }
    }

    /// <summary>Replaces the whole content (initial fill or re-list); ends every watch, which must start over.</summary>
    public void Reset(IEnumerable<CachedObject> objects, long revision, IEnumerable<CorruptObject>? corrupt = null)
    {
        lock (_gate)
        {
            Volatile.Write(ref _corrupt, ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, (corrupt ?? []).Select(c => KeyValuePair.Create(c.Key, c))));
            var builder = ImmutableSortedDictionary.CreateBuilder<string, CachedObject>(StringComparer.Ordinal);
            foreach (var o in objects)
            {
                builder[o.Key] = o;
            }

            var all = builder.ToImmutable();
            var byNamespace = ImmutableDictionary.CreateBuilder<string, ImmutableSortedDictionary<string, CachedObject>>(StringComparer.Ordinal);
            foreach (var group in all.Values.Select(o => (Namespace: NamespaceOf(o.Key), Object: o)).Where(p => p.Namespace is not null).GroupBy(p => p.Namespace!, StringComparer.Ordinal))
            {
                byNamespace[group.Key] = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, group.Select(p => KeyValuePair.Create(p.Object.Key, p.Object)));
            }

            Volatile.Write(ref _objects, all);
            Volatile.Write(ref _byNamespace, byNamespace.ToImmutable());
            _history.Clear();
            HistoryStartRevision = revision;
            _lastRevision = revision;
            foreach (var s in _subscriptions)
            {
                s.Channel.Writer.TryComplete();
            }

            _subscriptions.Clear();
        }
    }

    public void Apply(CacheEvent change)
    {
        lock (_gate)
        {
            var obj = change.Object!;
            var removed = change.Type == CacheEventType.Deleted;
            Volatile.Write(ref _objects, removed ? _objects.Remove(obj.Key) : _objects.SetItem(obj.Key, obj));
            Index(obj, removed);
            if (!_corrupt.IsEmpty && _corrupt.ContainsKey(obj.Key))
            {
                Volatile.Write(ref _corrupt, _corrupt.Remove(obj.Key));
            }
            _lastRevision = change.Revision;
            _history.Enqueue(change);
            while (_history.Count > _historyLimit)
            {
                HistoryStartRevision = _history.Dequeue().Revision;
            }

            Publish(change);
        }
    }

    /// <summary>Brings the namespace index in line with one change of <see cref="_objects"/>; called under the gate.</summary>
    private void Index(CachedObject obj, bool removed)
    {
        if (NamespaceOf(obj.Key) is not { } ns)
        {
            return;
        }

        var current = _byNamespace.TryGetValue(ns, out var objects) ? objects : NoObjects;
        var next = removed ? current.Remove(obj.Key) : current.SetItem(obj.Key, obj);
        Volatile.Write(ref _byNamespace, next.IsEmpty ? _byNamespace.Remove(ns) : _byNamespace.SetItem(ns, next));
    }

    /// <summary>
    /// The namespace a key lies under, read from the key as a list's key prefix would match it (not from the object,
    /// whose stored metadata another writer may have left without one); null for a cluster-scoped key.
    /// </summary>
    private string? NamespaceOf(string key)
    {
        if (key.Length <= _keyPrefixLength)
        {
            return null;
        }

        var slash = key.IndexOf('/', _keyPrefixLength);
        return slash < 0 ? null : key[_keyPrefixLength..slash];
    }

    /// <summary>Sends a bookmark at <paramref name="revision"/> to every watch that asked for them.</summary>
    public void Bookmark(long revision)
    {
        lock (_gate)
        {
            Publish(new CacheEvent(CacheEventType.Bookmark, Math.Max(revision, _lastRevision), null, null));
        }
    }

    private void Publish(CacheEvent change)
    {
        for (var i = _subscriptions.Count - 1; i >= 0; i--)
        {
            var s = _subscriptions[i];
            if (change.Type == CacheEventType.Bookmark && !s.WantsBookmarks)
            {
                continue;
            }

            if (!s.Channel.Writer.TryWrite(change))
            {
                // A watcher that cannot keep up is ended; its client resumes from the last resourceVersion it saw.
                s.Channel.Writer.TryComplete();
                _subscriptions.RemoveAt(i);
            }
        }
    }

    /// <summary>
    /// Starts a watch of changes after <paramref name="afterRevision"/>, returning the buffered ones and the current
    /// objects (of <paramref name="namespace"/> when given); null when the changes are no longer in the history (the
    /// client gets 410 Gone).
    /// </summary>
    public CacheSubscription? Subscribe(long afterRevision, long globalRevision, bool wantsBookmarks, out List<CacheEvent> backlog, out ImmutableSortedDictionary<string, CachedObject> snapshot, out long snapshotRevision, string? @namespace = null)
    {
        lock (_gate)
        {
            snapshot = @namespace is null ? _objects : InNamespace(@namespace);
            snapshotRevision = Math.Max(globalRevision, _lastRevision);
            backlog = [];
            if (afterRevision < HistoryStartRevision)
            {
                return null;
            }

            foreach (var e in _history)
            {
                if (e.Revision > afterRevision)
                {
                    backlog.Add(e);
                }
            }

            var subscription = new CacheSubscription(this, wantsBookmarks);
            _subscriptions.Add(subscription);
            return subscription;
        }
    }

    /// <summary>Ends every watch of this resource, as when the resource stops being served.</summary>
    public void EndWatches()
    {
        lock (_gate)
        {
            foreach (var s in _subscriptions)
            {
                s.Channel.Writer.TryComplete();
            }

            _subscriptions.Clear();
        }
    }

    public void Unsubscribe(CacheSubscription subscription)
    {
        lock (_gate)
        {
            _subscriptions.Remove(subscription);
        }

        subscription.Channel.Writer.TryComplete();
    }
}

/// <summary>A live watch on a <see cref="ResourceCache"/>; dispose to stop it.</summary>
internal sealed class CacheSubscription(ResourceCache owner, bool wantsBookmarks) : IDisposable
{
    public Channel<CacheEvent> Channel { get; } = System.Threading.Channels.Channel.CreateBounded<CacheEvent>(
        new BoundedChannelOptions(10_000) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

    public bool WantsBookmarks { get; } = wantsBookmarks;

    public void Dispose() => owner.Unsubscribe(this);
}
