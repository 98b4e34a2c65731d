using System.Buffers;
using System.Text.Unicode;

namespace Kubesharp.ApiMachinery.Serialization;

/// <summary>
/// A fixed-size table of recently read strings, so that the many objects a process reads share one copy of each
/// repeated string (label keys and values, namespaces, node names, condition types). A slot holds the last string
/// hashed to it; a miss allocates as usual and takes the slot. The table never grows, so strings no object holds any
/// more are not kept for long, and a race between threads only costs a miss.
/// </summary>
public sealed class StringPool(int slotCountPowerOfTwo)
{
    /// <summary>Longer strings (certificates, annotations holding JSON) rarely repeat and are not pooled.</summary>
    public const int MaxPooledLength = 96;

    private readonly string?[] slots = new string?[1 << slotCountPowerOfTwo];

    /// <summary>The pooled string of these characters.</summary>
    public string Get(ReadOnlySpan<char> chars)
    {
        if (chars.IsEmpty)
        {
            return string.Empty;
        }

        if (chars.Length > MaxPooledLength)
        {
            return new string(chars);
        }

        ref var slot = ref slots[string.GetHashCode(chars) & (slots.Length - 1)];
        var held = Volatile.Read(ref slot);
        if (held is not null && chars.SequenceEqual(held))
        {
            return held;
        }

        var read = new string(chars);
        Volatile.Write(ref slot, read);
        return read;
    }

    /// <summary>The pooled string equal to <paramref name="value"/>, else <paramref name="value"/>, pooled from now on.</summary>
    public string Get(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length is 0 or > MaxPooledLength)
        {
            return value;
        }

        ref var slot = ref slots[string.GetHashCode(value.AsSpan()) & (slots.Length - 1)];
        var held = Volatile.Read(ref slot);
        if (held is not null && string.Equals(held, value, StringComparison.Ordinal))
        {
            return held;
        }

        Volatile.Write(ref slot, value);
        return value;
    }

    /// <summary>
    /// The pooled string of this unescaped UTF-8 text; null when it is too long to pool or is not valid UTF-8 (the
    /// caller reads it the usual way, which also reports what is wrong with it).
    /// </summary>
    public string? GetUtf8(ReadOnlySpan<byte> utf8)
    {
        Span<char> buffer = stackalloc char[MaxPooledLength];
        return utf8.Length <= MaxPooledLength
            && Utf8.ToUtf16(utf8, buffer, out _, out var written, replaceInvalidSequences: false) == OperationStatus.Done
            ? Get(buffer[..written]) : null;
    }
}
