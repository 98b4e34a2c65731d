namespace Kubesharp.Client.Informers;

/// <summary>
/// Values by uid, each at one resourceVersion and held weakly: the store behind <see cref="SharedObjectTable{T}"/>.
/// Keyed apart by whether managedFields are there: an informer that trims them shares only with readers of objects
/// without them, and one that keeps them never gets a trimmed copy. Entries whose value was collected are dropped by a
/// sweep each time the table has doubled.
/// </summary>
internal sealed class VersionedObjectTable<TValue>
    where TValue : class
{
    private readonly Lock gate = new();
    private readonly Dictionary<(string Uid, bool WithoutManagedFields), Entry> entries = [];
    private int sweepAt = 1024;

    /// <summary>The value held at <paramref name="version"/>, else null.</summary>
    public TValue? Find(string uid, bool withoutManagedFields, string version)
    {
        lock (gate)
        {
            return entries.TryGetValue((uid, withoutManagedFields), out var entry) && entry.ResourceVersion == version
                && entry.Target.TryGetTarget(out var held) ? held : null;
        }
    }

    /// <summary>The value held at <paramref name="version"/>; else <paramref name="value"/>, which is held from now on.</summary>
    public TValue Share(string uid, bool withoutManagedFields, string version, TValue value)
    {
        var key = (uid, withoutManagedFields);
        lock (gate)
        {
            if (entries.TryGetValue(key, out var entry))
            {
                if (entry.ResourceVersion == version && entry.Target.TryGetTarget(out var held))
                {
                    return held;
                }

                entry.ResourceVersion = version;
                entry.Target.SetTarget(value);
                return value;
            }

            entries.Add(key, new Entry(version, value));
            if (entries.Count >= sweepAt)
            {
                Sweep();
            }

            return value;
        }
    }

    private void Sweep()
    {
        foreach (var (key, entry) in entries)
        {
            if (!entry.Target.TryGetTarget(out _))
            {
                entries.Remove(key);
            }
        }

        sweepAt = Math.Max(1024, entries.Count * 2);
    }

    private sealed class Entry(string resourceVersion, TValue target)
    {
        public string ResourceVersion { get; set; } = resourceVersion;

        public WeakReference<TValue> Target { get; } = new(target);
    }
}
