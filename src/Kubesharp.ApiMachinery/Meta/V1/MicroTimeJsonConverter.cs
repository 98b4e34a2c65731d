using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kubesharp.ApiMachinery.Meta.V1;

/// <summary>meta/v1 MicroTime: RFC 3339 in UTC to the microsecond.</summary>
public sealed class MicroTimeJsonConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        TimeJsonConverter.ReadTimestamp(ref reader);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        Span<byte> text = stackalloc byte[Rfc3339.MicroTimeLength];
        writer.WriteStringValue(text[..Rfc3339.FormatMicroTime(value, text)]);
    }
}
