namespace Kubesharp.ControllerManager.Expectations;

/// <summary>
/// Creations and deletions a controller has asked for but not yet seen in its informer cache. While any are
/// outstanding the cache is stale for that controller, so it must not act again (or it would create twice).
/// Expectations expire after a while so a lost watch event cannot wedge a controller.
/// </summary>
internal sealed class ControllerExpectations(TimeProvider timeProvider)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    public void ExpectCreations(string controllerKey, int count)
    {
        lock (gate)
        {
            entries[controllerKey] = new Entry(count, [], timeProvider.GetUtcNow());
        }
    }

    /// <summary>Expects the deletion of the given objects (namespace/name keys); only their deletions count.</summary>
    public void ExpectDeletions(string controllerKey, IEnumerable<string> objectKeys)
    {
        lock (gate)
        {
            entries[controllerKey] = new Entry(0, new HashSet<string>(objectKeys, StringComparer.Ordinal), timeProvider.GetUtcNow());
        }
    }

    public void CreationObserved(string controllerKey)
    {
        lock (gate)
        {
            if (entries.TryGetValue(controllerKey, out var entry))
            {
                entry.Adds--;
            }
        }
    }

    /// <summary>A create that failed or was skipped will never be observed.</summary>
    public void LowerCreations(string controllerKey, int count)
    {
        lock (gate)
        {
            if (entries.TryGetValue(controllerKey, out var entry))
            {
                entry.Adds -= count;
            }
        }
    }

    public void DeletionObserved(string controllerKey, string objectKey)
    {
        lock (gate)
        {
            if (entries.TryGetValue(controllerKey, out var entry))
            {
                entry.Deletes.Remove(objectKey);
            }
        }
    }

    public bool Satisfied(string controllerKey)
    {
        lock (gate)
        {
            if (!entries.TryGetValue(controllerKey, out var entry))
            {
                return true;
            }

            if ((entry.Adds <= 0 && entry.Deletes.Count == 0) || timeProvider.GetUtcNow() - entry.SetAt > Timeout)
            {
                return true;
            }

            return false;
        }
    }

    public void Forget(string controllerKey)
    {
        lock (gate)
        {
            entries.Remove(controllerKey);
        }
    }

    private sealed class Entry(int adds, HashSet<string> deletes, DateTimeOffset setAt)
    {
        public int Adds { get; set; } = adds;

        public HashSet<string> Deletes { get; } = deletes;

        public DateTimeOffset SetAt { get; } = setAt;
    }
}
