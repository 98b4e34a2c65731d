using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.ApiServer.Caching;

/// <summary>
/// One stored object as the cache serves it: the JSON with metadata.resourceVersion filled in, and a read-only
/// parsed view for selectors and printing. Never mutate; parse <see cref="Json"/> into a node to change it.
/// The parsed view is made on first use and reads the same bytes: most objects (pods among them) are only ever
/// served as JSON, and a parsed copy kept for each would more than double what the cache holds.
/// </summary>
internal sealed class CachedObject
{
    // Pods of one ReplicaSet, and the versions of one object, carry the same namespace and labels: the cache holds
    // one copy of them, not one per object version.
    private static readonly StringPool Strings = new(14);

    private static readonly LabelSetPool LabelSets = new(10);

    private static readonly Dictionary<string, string> NoLabels = new(StringComparer.Ordinal);

    private JsonDocument? parsed;

    /// <summary>Field selector values read so far, by dot path; replaced whole when one is added.</summary>
    private KeyValuePair<string, string>[] fieldTexts = [];

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

    /// <summary>Whether the parsed view has been made (and is kept with the object).</summary>
    public bool HasParsedView => Volatile.Read(ref parsed) is not null;

    public IReadOnlyDictionary<string, string> Labels { get; }

    public JsonElement Metadata => Root.TryGetProperty("metadata", out var m) ? m : default;

    /// <summary>
    /// The bytes of the metadata object, found in <see cref="Json"/> without making the parsed view: metadata-only
    /// lists and watches (the garbage collector's, of every object) would otherwise keep a parsed view of everything.
    /// </summary>
    public ReadOnlySpan<byte> MetadataJson
    {
        get
        {
            var metadata = JsonMember.Find(Json, "metadata"u8);
            return metadata is [(byte)'{', ..] ? metadata : "{}"u8;
        }
    }

    /// <summary>
    /// The text a field selector compares for a dot path (<c>spec.nodeName</c>): a string as it is, a boolean or
    /// number as written, anything else or a missing field empty. Read from <see cref="Json"/> and remembered, so that
    /// the watches of many nodes, each selecting its own pods, neither parse every pod nor keep a parsed view of it.
    /// </summary>
    public string FieldText(string path)
    {
        var known = Volatile.Read(ref fieldTexts);
        foreach (var (field, text) in known)
        {
            if (field == path)
            {
                return text;
            }
        }

        var read = ReadFieldText(path.Split('.'));
        Volatile.Write(ref fieldTexts, [.. known, KeyValuePair.Create(path, read)]);
        return read;
    }

    private string ReadFieldText(string[] parts)
    {
        var reader = new Utf8JsonReader(Json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return string.Empty;
        }

        for (var level = 0; ; level++)
        {
            var found = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                found = reader.ValueTextEquals(parts[level]);
                reader.Read();
                if (found)
                {
                    break;
                }

                reader.Skip();
            }

            if (!found)
            {
                return string.Empty;
            }

            if (level == parts.Length - 1)
            {
                return reader.TokenType switch
                {
                    JsonTokenType.String => reader.GetString() ?? string.Empty,
                    JsonTokenType.True => "true",
                    JsonTokenType.False => "false",
                    JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                    _ => string.Empty,
                };
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return string.Empty;
            }
        }
    }

    public string? Uid => Metadata.ValueKind == JsonValueKind.Object && Metadata.TryGetProperty("uid", out var u) ? u.GetString() : null;

    /// <summary>A fresh mutable copy.</summary>
    public JsonObject ToNode() => JsonNode.Parse(Json)!.AsObject();

    public static CachedObject FromStored(string key, ReadOnlySpan<byte> stored, long revision)
    {
        // Every write passes through here (the watch cache's one loop), so the usual stored form is not parsed into
        // nodes and written again: the resourceVersion is spliced in at the end of metadata, where FromNode puts it.
        if (MetadataEnd(stored) is { } end)
        {
            var json = Splice(stored, end, revision);
            // Read for the names and labels only, then given back: the parsed view is made when first asked for.
            using var document = JsonDocument.Parse(json);
            var metadata = document.RootElement.GetProperty("metadata");
            if (Text(metadata, "namespace") is { } @namespace
                && Text(metadata, "name") is { } name
                && LabelsOf(metadata) is { } labels)
            {
                return new CachedObject(key, Strings.Get(@namespace), name, revision, json, labels);
            }
        }

        var node = JsonNode.Parse(stored)?.AsObject() ?? throw new JsonException("stored value is not an object");
        return FromNode(key, node, revision);
    }

    /// <summary>
    /// Where the one metadata object of a stored object ends (its closing brace) and whether it has members; null when
    /// the value has another shape (no metadata, a stored resourceVersion, metadata twice), which the node path handles.
    /// </summary>
    private static (int Index, bool Empty)? MetadataEnd(ReadOnlySpan<byte> stored)
    {
        try
        {
            var reader = new Utf8JsonReader(stored);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            (int Index, bool Empty)? found = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isMetadata = reader.ValueTextEquals("metadata"u8);
                reader.Read();
                if (!isMetadata)
                {
                    reader.Skip();
                    continue;
                }

                if (found is not null || reader.TokenType != JsonTokenType.StartObject)
                {
                    return null;
                }

                var empty = true;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    empty = false;
                    if (reader.ValueTextEquals("resourceVersion"u8))
                    {
                        return null;
                    }

                    reader.Read();
                    reader.Skip();
                }

                found = ((int)reader.TokenStartIndex, empty);
            }

            return found;
        }
        catch (JsonException)
        {
            // The node path reports it.
            return null;
        }
    }

    private static byte[] Splice(ReadOnlySpan<byte> stored, (int Index, bool Empty) end, long revision)
    {
        Span<byte> digits = stackalloc byte[20];
        revision.TryFormat(digits, out var length, provider: System.Globalization.CultureInfo.InvariantCulture);
        ReadOnlySpan<byte> head = end.Empty ? "\"resourceVersion\":\""u8 : ",\"resourceVersion\":\""u8;
        var json = new byte[stored.Length + head.Length + length + 1];
        stored[..end.Index].CopyTo(json);
        var at = end.Index;
        head.CopyTo(json.AsSpan(at));
        at += head.Length;
        digits[..length].CopyTo(json.AsSpan(at));
        at += length;
        json[at++] = (byte)'"';
        stored[end.Index..].CopyTo(json.AsSpan(at));
        return json;
    }

    /// <summary>A metadata string field, empty when absent; null when it is not a string (the node path decides).</summary>
    private static string? Text(JsonElement metadata, string field) =>
        !metadata.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null ? string.Empty
        : value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static Dictionary<string, string>? LabelsOf(JsonElement metadata)
    {
        if (!metadata.TryGetProperty("labels", out var labelElement) || labelElement.ValueKind == JsonValueKind.Null)
        {
            return NoLabels;
        }

        if (labelElement.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in labelElement.EnumerateObject())
        {
            if (label.Value.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            labels[Strings.Get(label.Name)] = Strings.Get(label.Value.GetString()!);
        }

        return labels.Count == 0 ? NoLabels : LabelSets.Share(labels);
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
        var labels = NoLabels;
        if (metadata["labels"] is JsonObject { Count: > 0 } labelNode)
        {
            labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in labelNode)
            {
                labels[Strings.Get(k)] = Strings.Get(v?.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v?.ToJsonString() ?? string.Empty);
            }

            labels = LabelSets.Share(labels);
        }

        return new CachedObject(
            key,
            Strings.Get((string?)metadata["namespace"] ?? string.Empty),
            (string?)metadata["name"] ?? string.Empty,
            revision,
            json,
            labels);
    }

    /// <summary>The same object at another revision (a delete's revision).</summary>
    public CachedObject WithRevision(long revision) => revision == Revision ? this : FromNode(Key, ToNode(), revision);
}
