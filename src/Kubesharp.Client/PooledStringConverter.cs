using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Unicode;

namespace Kubesharp.Client;

/// <summary>
/// Reads JSON strings through a fixed-size table of recently read ones, so that objects decoded from the server share
/// one copy of each repeated string: label keys and values, namespaces, node names, images, condition types and
/// reasons, and the uid and name of an object that several informers of one process decode. A slot holds the last
/// string hashed to it; a miss allocates as usual and takes the slot. The table never grows, so strings of deleted
/// objects are not kept, and a race between threads only costs a miss.
/// </summary>
internal sealed class PooledStringConverter : JsonConverter<string>
{
    /// <summary>Longer strings (certificates, annotations holding JSON) rarely repeat and are read as usual.</summary>
    private const int MaxPooledLength = 96;

    private const int SlotCount = 1 << 16;

    private readonly string?[] slots = new string?[SlotCount];

    public override bool HandleNull => false;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadPooled(ref reader);

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadPooled(ref reader)!;

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);

    private string? ReadPooled(ref Utf8JsonReader reader)
    {
        Span<char> buffer = stackalloc char[MaxPooledLength];
        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName) || reader.ValueIsEscaped || reader.HasValueSequence
            || reader.ValueSpan.Length > MaxPooledLength
            || Utf8.ToUtf16(reader.ValueSpan, buffer, out _, out var written, replaceInvalidSequences: false) != OperationStatus.Done)
        {
            // Everything unusual, errors included, goes the built-in way.
            return reader.GetString();
        }

        var chars = buffer[..written];
        if (chars.IsEmpty)
        {
            return string.Empty;
        }

        ref var slot = ref slots[string.GetHashCode(chars) & (SlotCount - 1)];
        var held = Volatile.Read(ref slot);
        if (held is not null && chars.SequenceEqual(held))
        {
            return held;
        }

        var read = new string(chars);
        Volatile.Write(ref slot, read);
        return read;
    }
}
