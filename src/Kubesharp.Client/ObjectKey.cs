using Kubesharp.ApiMachinery;

namespace Kubesharp.Client;

/// <summary>The cache and work-queue key of an object: <c>namespace/name</c>, or <c>name</c> when cluster-scoped.</summary>
public static class ObjectKey
{
    private const int RecentKeyCount = 1 << 14;

    private static readonly string?[] RecentKeys = new string?[RecentKeyCount];

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

        // Every informer, index and work queue of a process keys the same objects: through a fixed table of recent
        // keys (as the client's string pool does for the strings it reads) they hold one copy of each key, not one each.
        var nameChars = name.AsSpan();
        ref var slot = ref RecentKeys[HashCode.Combine(string.GetHashCode(@namespace), string.GetHashCode(nameChars)) & (RecentKeyCount - 1)];
        var recent = Volatile.Read(ref slot);
        if (recent is not null && recent.Length == @namespace.Length + 1 + nameChars.Length && recent[@namespace.Length] == '/'
            && recent.AsSpan(0, @namespace.Length).SequenceEqual(@namespace) && recent.AsSpan(@namespace.Length + 1).SequenceEqual(nameChars))
        {
            return recent;
        }

        var key = string.Concat(@namespace, "/", name);
        Volatile.Write(ref slot, key);
        return key;
    }

    /// <summary>Splits a key back into namespace (empty when cluster-scoped) and name.</summary>
    public static (string Namespace, string Name) Split(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? ("", key) : (key[..slash], key[(slash + 1)..]);
    }
}
