using System.Collections;

namespace Kubesharp.Grpc;

/// <summary>gRPC call metadata: request headers, response headers or trailers.</summary>
public sealed class Metadata : IEnumerable<MetadataEntry>
{
    public const string BinarySuffix = "-bin";

    private readonly List<MetadataEntry> entries = [];

    public int Count => entries.Count;

    public void Add(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        var normalized = key.ToLowerInvariant();
        if (normalized.EndsWith(BinarySuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Key '{key}' is for binary values; pass a byte array.", nameof(key));
        }

        entries.Add(new MetadataEntry(normalized, value));
    }

    public void Add(string key, byte[] value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        var normalized = key.ToLowerInvariant();
        if (!normalized.EndsWith(BinarySuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Binary metadata keys end with '{BinarySuffix}'.", nameof(key));
        }

        entries.Add(new MetadataEntry(normalized, Convert.ToBase64String(value)));
    }

    /// <summary>The last value for a key, or null.</summary>
    public string? GetValue(string key)
    {
        var normalized = key.ToLowerInvariant();
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            if (entries[i].Key == normalized)
            {
                return entries[i].Value;
            }
        }

        return null;
    }

    public IEnumerator<MetadataEntry> GetEnumerator() => entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal void AddRaw(string key, string value) => entries.Add(new MetadataEntry(key.ToLowerInvariant(), value));
}
