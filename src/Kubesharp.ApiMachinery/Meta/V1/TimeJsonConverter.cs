using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kubesharp.ApiMachinery.Meta.V1;

/// <summary>meta/v1 Time: RFC 3339 in UTC to the second.</summary>
public sealed class TimeJsonConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ReadTimestamp(ref reader);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Rfc3339.FormatTime(value));

    internal static DateTimeOffset ReadTimestamp(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"a timestamp must be a string, not {reader.TokenType}");
        }

        var text = reader.GetString()!;
        return Rfc3339.TryParse(text, out var value) ? value : throw new JsonException($"parsing time \"{text}\" as RFC 3339 failed");
    }
}
