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
    private static readonly VersionedObjectTable<T> Objects = new();

    /// <summary>
    /// The instance to cache for <paramref name="obj"/>, a copy this informer decoded itself (an instance another
    /// informer holds is never prepared again): one held already at the same version, else <paramref name="obj"/>,
    /// whose metadata becomes the instance an informer of another kind holds for the same version (the garbage
    /// collector reads every object as metadata alone).
    /// </summary>
    public static T Share(T obj)
    {
        if (obj.Metadata is not { Uid: { Length: > 0 }, ResourceVersion: { Length: > 0 } } meta)
        {
            return obj;
        }

        // Still this informer's own, so its metadata may be swapped for an equal instance, whose strings the table's
        // key then takes too. Should the object be held already, the swap is on a copy about to be dropped.
        var shared = obj.Metadata = SharedObjectMetadata.Share(meta);
        return Objects.Share(shared.Uid!, meta.ManagedFields is null, shared.ResourceVersion!, obj);
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

        return Objects.Find(uid, trims || !withManagedFields, version);
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
}
