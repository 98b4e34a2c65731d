using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Caching;

/// <summary>
/// One stored object as the cache serves it: the JSON with metadata.resourceVersion filled in, and a read-only
/// parsed view for selectors and printing. Never mutate; parse <see cref="Json"/> into a node to change it.
/// The parsed view is made on first use and reads the same bytes: most objects (pods among them) are only ever
/// served as JSON, and a parsed copy kept for each would more than double what the cache holds.
/// </summary>
internal sealed class CachedObject
{
    private JsonDocument? parsed;

    private CachedObject(string key, string @namespace, string name, long revision, byte[] json, IReadOnlyDictionary<string, string> labels)
    {
        Key = key;
        Namespace = @namespace;
        Name = name;
        Revision = revision;
        Json = json;
        Labels = labels;
    }

    public string Key { get; }

    public string Namespace { get; }

    public string Name { get; }

    /// <summary>The store's mod revision; the object's resourceVersion.</summary>
    public long Revision { get; }

    public byte[] Json { get; }

    public JsonElement Root
    {
        get
        {
            if (Volatile.Read(ref parsed) is { } document)
            {
                return document.RootElement;
            }

            // Never disposed: the document lives as long as this object, and its bytes are Json itself (no copy).
            var made = JsonDocument.Parse(Json.AsMemory());
            return (Interlocked.CompareExchange(ref parsed, made, null) ?? made).RootElement;
        }
    }

    public IReadOnlyDictionary<string, string> Labels { get; }

    public JsonElement Metadata => Root.TryGetProperty("metadata", out var m) ? m : default;

    public string? Uid => Metadata.ValueKind == JsonValueKind.Object && Metadata.TryGetProperty("uid", out var u) ? u.GetString() : null;

    /// <summary>A fresh mutable copy.</summary>
    public JsonObject ToNode() => JsonNode.Parse(Json)!.AsObject();

    public static CachedObject FromStored(string key, ReadOnlySpan<byte> stored, long revision)
    {
        var node = JsonNode.Parse(stored)?.AsObject() ?? throw new JsonException("stored value is not an object");
        return FromNode(key, node, revision);
    }

    /// <summary>Builds the cached form; sets metadata.resourceVersion on <paramref name="node"/>.</summary>
    public static CachedObject FromNode(string key, JsonObject node, long revision)
    {
        var metadata = node["metadata"] as JsonObject;
        if (metadata is null)
        {
            metadata = [];
            node["metadata"] = metadata;
        }

        metadata["resourceVersion"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var json = JsonSerializer.SerializeToUtf8Bytes(node, StoredJsonContext.Default.JsonObject);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (metadata["labels"] is JsonObject labelNode)
        {
            foreach (var (k, v) in labelNode)
            {
                labels[k] = v?.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v?.ToJsonString() ?? string.Empty;
            }
        }

        return new CachedObject(
            key,
            (string?)metadata["namespace"] ?? string.Empty,
            (string?)metadata["name"] ?? string.Empty,
            revision,
            json,
            labels);
    }

    /// <summary>The same object at another revision (a delete's revision).</summary>
    public CachedObject WithRevision(long revision) => revision == Revision ? this : FromNode(Key, ToNode(), revision);
}
