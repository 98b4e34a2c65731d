using System.Buffers;
using System.Text.Unicode;

namespace Kubesharp.ApiMachinery.Serialization;

/// <summary>
/// A fixed-size table of recently read strings, so that the many objects a process reads share one copy of each
/// repeated string (label keys and values, namespaces, node names, condition types, object keys). A slot holds the
/// last string hashed to it; a miss allocates as usual and takes the slot. The table never grows, so strings no object
/// holds any more are not kept for long, and a race between threads only costs a miss.
/// </summary>
public sealed class StringPool(int slotCountPowerOfTwo, int maxLength = StringPool.MaxPooledLength)
{
    /// <summary>The default longest pooled string: longer ones (certificates, annotations holding JSON) rarely repeat.</summary>
    public const int MaxPooledLength = 96;

    private readonly string?[] slots = new string?[1 << slotCountPowerOfTwo];

    /// <summary>The longest string this pool holds; longer ones are made as usual.</summary>
    public int MaxLength { get; } = maxLength;

    /// <summary>The pooled string of these characters.</summary>
    public string Get(ReadOnlySpan<char> chars) =>
        chars.IsEmpty ? string.Empty
        : chars.Length > MaxLength ? new string(chars)
        : Take(chars, null);

    /// <summary>The pooled string equal to <paramref name="value"/>, else <paramref name="value"/>, pooled from now on.</summary>
    public string Get(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Length is 0 || value.Length > MaxLength ? value : Take(value, value);
    }

    /// <summary>
    /// The pooled string of this unescaped UTF-8 text; null when it is too long to pool or is not valid UTF-8 (the
    /// caller reads it the usual way, which also reports what is wrong with it).
    /// </summary>
    public string? GetUtf8(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxLength)
        {
            return null;
        }

        Span<char> buffer = stackalloc char[utf8.Length];
        return Utf8.ToUtf16(utf8, buffer, out _, out var written, replaceInvalidSequences: false) == OperationStatus.Done
            ? Get(buffer[..written]) : null;
    }

    /// <summary>The slot's string when it has these characters; else <paramref name="instance"/> (or a new one), which takes the slot.</summary>
    private string Take(ReadOnlySpan<char> chars, string? instance)
    {
        ref var slot = ref slots[string.GetHashCode(chars) & (slots.Length - 1)];
        var held = Volatile.Read(ref slot);
        if (held is not null && chars.SequenceEqual(held))
        {
            return held;
        }

        var read = instance ?? new string(chars);
        Volatile.Write(ref slot, read);
        return read;
    }
}
