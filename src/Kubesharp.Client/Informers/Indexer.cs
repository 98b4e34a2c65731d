using Kubesharp.ApiMachinery;

namespace Kubesharp.Client.Informers;

/// <summary>
/// The thread-safe object cache of an informer: objects by key plus secondary indexes
/// (the namespace index is always present). Objects are shared: treat them as read-only.
/// </summary>
public sealed class Indexer<T>
    where T : class, IKubernetesObject
{
    /// <summary>The built-in index of objects by metadata.namespace.</summary>
    public const string NamespaceIndex = "namespace";

    private readonly Lock gate = new();
    private readonly Dictionary<string, T> items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<T, IEnumerable<string>>> indexers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, HashSet<string>>> indices = new(StringComparer.Ordinal);
    private long version;

    public Indexer()
    {
        AddIndexer(NamespaceIndex, o => [o.Metadata?.Namespace ?? ""]);
    }

    /// <summary>
    /// Grows with every change (upsert, delete, replace), so a reader can tell that something it derived from the
    /// cache may be stale without being told which object changed.
    /// </summary>
    public long Version => Volatile.Read(ref version);

    public int Count
    {
        get
        {
            lock (gate)
            {
                return items.Count;
            }
        }
    }

    /// <summary>Adds an index; existing objects are indexed at once.</summary>
    public void AddIndexer(string name, Func<T, IEnumerable<string>> indexFunc)
    {
        ArgumentNullException.ThrowIfNull(indexFunc);
        lock (gate)
        {
            if (!indexers.TryAdd(name, indexFunc))
            {
                throw new InvalidOperationException($"indexer \"{name}\" already exists");
            }

            var index = indices[name] = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (var (key, obj) in items)
            {
                foreach (var value in indexFunc(obj))
                {
                    AddToIndex(index, value, key);
                }
            }
        }
    }

    public T? Get(string key)
    {
        lock (gate)
        {
            return items.GetValueOrDefault(key);
        }
    }

    public IReadOnlyList<T> List()
    {
        lock (gate)
        {
            return [.. items.Values];
        }
    }

    public IReadOnlyList<string> ListKeys()
    {
        lock (gate)
        {
            return [.. items.Keys];
        }
    }

    /// <summary>Objects whose index function yields <paramref name="value"/>.</summary>
    public IReadOnlyList<T> ByIndex(string indexName, string value)
    {
        lock (gate)
        {
            if (!indices.TryGetValue(indexName, out var index))
            {
                throw new InvalidOperationException($"indexer \"{indexName}\" does not exist");
            }

            if (!index.TryGetValue(value, out var keys))
            {
                return [];
            }

            var result = new List<T>(keys.Count);
            foreach (var key in keys)
            {
                result.Add(items[key]);
            }

            return result;
        }
    }

    /// <summary>Adds or replaces; returns the previous object, if any.</summary>
    public T? Upsert(T obj)
    {
        var key = ObjectKey.Of(obj);
        lock (gate)
        {
            items.TryGetValue(key, out var old);
            items[key] = obj;
            Reindex(key, old, obj);
            Interlocked.Increment(ref version);
            return old;
        }
    }

    /// <summary>Removes by key; returns the removed object, if any.</summary>
    public T? Delete(string key)
    {
        lock (gate)
        {
            if (!items.Remove(key, out var old))
            {
                return null;
            }

            Unindex(key, old);
            Interlocked.Increment(ref version);
            return old;
        }
    }

    /// <summary>Replaces the whole content (after a relist); returns the objects that disappeared.</summary>
    public IReadOnlyList<T> Replace(IEnumerable<T> objects, out IReadOnlyList<(T? Old, T New)> upserts)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var changes = new List<(T?, T)>();
        lock (gate)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var obj in objects)
            {
                var key = ObjectKey.Of(obj);
                seen.Add(key);
                items.TryGetValue(key, out var old);
                items[key] = obj;
                Reindex(key, old, obj);
                changes.Add((old, obj));
            }

            var removed = new List<T>();
            foreach (var key in items.Keys.Where(k => !seen.Contains(k)).ToList())
            {
                var old = items[key];
                items.Remove(key);
                Unindex(key, old);
                removed.Add(old);
            }

            upserts = changes;
            Interlocked.Increment(ref version);
            return removed;
        }
    }

    private void Index(string key, T obj)
    {
        foreach (var (name, func) in indexers)
        {
            var index = indices[name];
            foreach (var value in func(obj))
            {
                AddToIndex(index, value, key);
            }
        }
    }

    /// <summary>
    /// Moves the key between index values where they changed. An index whose values stayed the same (a pod's namespace
    /// always, its node mostly) is left alone, keeping the key instance it has rather than taking each update's copy.
    /// </summary>
    private void Reindex(string key, T? old, T obj)
    {
        if (old is null)
        {
            Index(key, obj);
            return;
        }

        foreach (var (name, func) in indexers)
        {
            var before = func(old);
            var after = func(obj);
            if (before.SequenceEqual(after, StringComparer.Ordinal))
            {
                continue;
            }

            var index = indices[name];
            RemoveFromIndex(index, before, key);
            foreach (var value in after)
            {
                AddToIndex(index, value, key);
            }
        }
    }

    private void Unindex(string key, T obj)
    {
        foreach (var (name, func) in indexers)
        {
            RemoveFromIndex(indices[name], func(obj), key);
        }
    }

    private static void RemoveFromIndex(Dictionary<string, HashSet<string>> index, IEnumerable<string> values, string key)
    {
        foreach (var value in values)
        {
            if (index.TryGetValue(value, out var keys) && keys.Remove(key) && keys.Count == 0)
            {
                index.Remove(value);
            }
        }
    }

    private static void AddToIndex(Dictionary<string, HashSet<string>> index, string value, string key)
    {
        if (!index.TryGetValue(value, out var keys))
        {
            index[value] = keys = new HashSet<string>(StringComparer.Ordinal);
        }

        keys.Add(key);
    }
}
