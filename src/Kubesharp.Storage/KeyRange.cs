namespace Kubesharp.Storage;

/// <summary>The half-open key range [Start, End) that holds every key with a given prefix; End is null when unbounded.</summary>
public readonly record struct KeyRange(string Start, string? End)
{
    public static KeyRange ForPrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        // The smallest string greater than every string starting with the prefix: drop trailing
        // maximal characters, then increment the last remaining one.
        var chars = prefix.ToCharArray();
        for (var i = chars.Length - 1; i >= 0; i--)
        {
            if (chars[i] < char.MaxValue)
            {
                chars[i]++;
                return new KeyRange(prefix, new string(chars, 0, i + 1));
            }
        }

        return new KeyRange(prefix, null);
    }

    public bool Contains(string key) =>
        string.CompareOrdinal(key, Start) >= 0 && (End is null || string.CompareOrdinal(key, End) < 0);
}
