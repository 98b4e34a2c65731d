using System.Text.Json;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Serialization;

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

    /// <summary>
    /// The instance held for the object whose JSON this is, read from its metadata alone (uid, resourceVersion and
    /// whether managedFields are there, which <paramref name="trims"/> ignores): an informer that finds it need not
    /// decode the object at all. Null when none is held at that version.
    /// </summary>
    public static T? Find(ReadOnlySpan<byte> json, bool trims)
    {
        if (ReadIdentity(json) is not var (uid, version, withManagedFields))
        {
            return null;
        }

        lock (Gate)
        {
            return Entries.TryGetValue((uid, trims || !withManagedFields), out var entry) && entry.ResourceVersion == version
                && entry.Target.TryGetTarget(out var held) ? held : null;
        }
    }

    private static (string Uid, string Version, bool WithManagedFields)? ReadIdentity(ReadOnlySpan<byte> json)
    {
        try
        {
            var metadata = JsonMember.Find(json, "metadata"u8);
            if (metadata is not [(byte)'{', ..])
            {
                return null;
            }

            var reader = new Utf8JsonReader(metadata);
            reader.Read();
            string? uid = null, version = null;
            var withManagedFields = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("uid"u8))
                {
                    reader.Read();
                    uid = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("resourceVersion"u8))
                {
                    reader.Read();
                    version = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else
                {
                    // Present and not null, as the decoded object's ManagedFields would be (what Share keys by).
                    var isManagedFields = reader.ValueTextEquals("managedFields"u8);
                    reader.Read();
                    withManagedFields |= isManagedFields && reader.TokenType != JsonTokenType.Null;
                    reader.Skip();
                }
            }

            return uid is { Length: > 0 } && version is { Length: > 0 } ? (uid, version, withManagedFields) : null;
        }
        catch (JsonException)
        {
            // Left to the decoder, which reports it.
            return null;
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
