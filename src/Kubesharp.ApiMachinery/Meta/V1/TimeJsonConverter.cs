using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kubesharp.ApiMachinery.Meta.V1;

/// <summary>meta/v1 Time: RFC 3339 in UTC to the second.</summary>
public sealed class TimeJsonConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ReadTimestamp(ref reader);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        Span<byte> text = stackalloc byte[Rfc3339.TimeLength];
        writer.WriteStringValue(text[..Rfc3339.FormatTime(value, text)]);
    }

    internal static DateTimeOffset ReadTimestamp(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"a timestamp must be a string, not {reader.TokenType}");
        }

        // A timestamp is plain ASCII: its bytes are read where they lie unless the JSON escaped them or split them over buffers.
        if (!reader.HasValueSequence && !reader.ValueIsEscaped
            ? Rfc3339.TryParse(reader.ValueSpan, out var value)
            : Rfc3339.TryParse(reader.GetString(), out value))
        {
            return value;
        }

        throw new JsonException($"parsing time \"{reader.GetString()}\" as RFC 3339 failed");
    }
}
