namespace Kubesharp.ApiMachinery.Serialization;

/// <summary>
/// A fixed-size table of recently read label sets, so that objects with equal labels (the pods of one ReplicaSet,
/// the versions of one object) hold one dictionary between them. Only for sets that are never changed after they are
/// read: cached objects. A slot holds the last set hashed to it; a miss takes the slot.
/// </summary>
public sealed class LabelSetPool(int slotCountPowerOfTwo)
{
    private readonly Dictionary<string, string>?[] slots = new Dictionary<string, string>?[1 << slotCountPowerOfTwo];

    /// <summary>A pooled set equal to <paramref name="labels"/> (same comparer), else <paramref name="labels"/>, pooled from now on.</summary>
    public Dictionary<string, string> Share(Dictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);

        // Summed, so that the order the labels were read in does not matter.
        var hash = 0;
        foreach (var (key, value) in labels)
        {
            hash += HashCode.Combine(key, value);
        }

        ref var slot = ref slots[hash & (slots.Length - 1)];
        var pooled = Volatile.Read(ref slot);
        if (pooled is not null && Equal(pooled, labels))
        {
            return pooled;
        }

        Volatile.Write(ref slot, labels);
        return labels;
    }

    private static bool Equal(Dictionary<string, string> a, Dictionary<string, string> b)
    {
        if (a.Count != b.Count || a.Comparer != b.Comparer)
        {
            return false;
        }

        foreach (var (key, value) in b)
        {
            if (!a.TryGetValue(key, out var other) || !string.Equals(value, other, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
