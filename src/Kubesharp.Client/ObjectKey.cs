using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.Client;

/// <summary>The cache and work-queue key of an object: <c>namespace/name</c>, or <c>name</c> when cluster-scoped.</summary>
public static class ObjectKey
{
    // Every informer, index and work queue of a process keys the same objects: through a pool of recent keys they hold
    // one copy of each key, not one each. Long enough for any namespace (63) and name (253).
    private const int MaxKeyLength = 63 + 1 + 253;

    private static readonly StringPool RecentKeys = new(14, MaxKeyLength);

    public static string Of(IKubernetesObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var meta = obj.Metadata ?? throw new ArgumentException("object has no metadata", nameof(obj));
        return Of(meta.Namespace, meta.Name ?? "");
    }

    public static string Of(string? @namespace, string name)
    {
        if (string.IsNullOrEmpty(@namespace))
        {
            return name;
        }

        var nameChars = name.AsSpan();
        var length = @namespace.Length + 1 + nameChars.Length;
        if (length > MaxKeyLength)
        {
            return string.Concat(@namespace, "/", name);
        }

        Span<char> key = stackalloc char[length];
        @namespace.CopyTo(key);
        key[@namespace.Length] = '/';
        nameChars.CopyTo(key[(@namespace.Length + 1)..]);
        return RecentKeys.Get(key);
    }

    /// <summary>Splits a key back into namespace (empty when cluster-scoped) and name.</summary>
    public static (string Namespace, string Name) Split(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? ("", key) : (key[..slash], key[(slash + 1)..]);
    }
}
