using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Caching;

namespace Kubesharp.ApiServer.History;

/// <summary>
/// History as its first design kept it, which stores written by earlier versions still hold: a copy of every revision
/// at <c>/kubesharp/history/RESOURCE/[NAMESPACE/]NAME/REVISION</c>, a JSON object of revision, time, type, user,
/// manager and the stored object (for a deletion, its last state). <see cref="ObjectHistory.UpgradeAsync"/> turns
/// each into a journal entry where the store still holds the revision; the others stay and are read from here until
/// they leave the window. Deletion index entries had today's shape and need nothing.
/// </summary>
internal static class EarlierHistoryRecords
{
    public const string Prefix = "/kubesharp/history/";

    /// <summary>Where the records of the object stored at <paramref name="storageKey"/> were kept.</summary>
    public static string ObjectPrefix(string storageKey) => Prefix + storageKey[WatchCache.RegistryPrefix.Length..] + "/";

    /// <summary>The storage key of the object a record belongs to.</summary>
    public static string StorageKeyOf(string recordKey) => WatchCache.RegistryPrefix + recordKey[Prefix.Length..recordKey.LastIndexOf('/')];

    /// <summary>A record as history answers it (object's resourceVersion its revision); null when it cannot be read.</summary>
    public static (HistoryRecord Header, JsonObject Record)? Decode(ReadOnlySpan<byte> encoded)
    {
        if (HistoryRecord.DecodeHeader(encoded) is not { } header)
        {
            return null;
        }

        JsonObject? record;
        try
        {
            record = JsonNode.Parse(encoded) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }

        if (record?["object"] is not JsonObject obj)
        {
            return null;
        }

        if (obj["metadata"] is JsonObject meta)
        {
            meta["resourceVersion"] = header.Revision.ToString(CultureInfo.InvariantCulture);
        }

        return (header, record);
    }
}
