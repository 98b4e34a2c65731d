using Kubesharp.ApiMachinery;

namespace Kubesharp.Client.Informers;

/// <summary>
/// The objects the informers of one process hold, by uid: when a second informer reads the version an earlier one
/// already holds (same uid and resourceVersion, so the same stored bytes), it caches that instance instead of its own
/// decoded copy. A server runs its controller manager, scheduler, DNS and service proxy side by side, each with its
/// own pod and node informers; without this every pod would be held once per component. Cached objects are read-only,
/// so sharing them changes nothing a reader can see. Entries hold their objects weakly: an object no informer keeps
/// any more is collected, and its entry is dropped by the next sweep.
/// </summary>
internal static class SharedObjectTable<T>
    where T : class, IKubernetesObject
{
    private static readonly Lock Gate = new();

    // Keyed apart by whether managedFields are there: an informer that trims them shares only with readers of objects
    // without them, and one that keeps them never gets a trimmed copy.
    private static readonly Dictionary<(string Uid, bool WithoutManagedFields), Entry> Entries = [];

    private static int sweepAt = 1024;

    /// <summary>The instance to cache for <paramref name="obj"/>: one held already at the same version, else itself.</summary>
    public static T Share(T obj)
    {
        if (obj.Metadata is not { Uid: { Length: > 0 } uid, ResourceVersion: { Length: > 0 } version } meta)
        {
            return obj;
        }

        var key = (uid, meta.ManagedFields is null);
        lock (Gate)
        {
            if (Entries.TryGetValue(key, out var entry))
            {
                if (entry.ResourceVersion == version && entry.Target.TryGetTarget(out var held))
                {
                    return held;
                }

                entry.ResourceVersion = version;
                entry.Target.SetTarget(obj);
                return obj;
            }

            Entries.Add(key, new Entry(version, obj));
            if (Entries.Count >= sweepAt)
            {
                Sweep();
            }

            return obj;
        }
    }

    /// <summary>Drops entries whose object was collected; the next sweep waits until the table has doubled again.</summary>
    private static void Sweep()
    {
        foreach (var (key, entry) in Entries)
        {
            if (!entry.Target.TryGetTarget(out _))
            {
                Entries.Remove(key);
            }
        }

        sweepAt = Math.Max(1024, Entries.Count * 2);
    }

    private sealed class Entry(string resourceVersion, T target)
    {
        public string ResourceVersion { get; set; } = resourceVersion;

        public WeakReference<T> Target { get; } = new(target);
    }
}
