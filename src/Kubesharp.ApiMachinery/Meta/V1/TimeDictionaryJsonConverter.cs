using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kubesharp.ApiMachinery.Meta.V1;

/// <summary>A map of meta/v1 Time values (PodDisruptionBudgetStatus.disruptedPods).</summary>
public sealed class TimeDictionaryJsonConverter : JsonConverter<Dictionary<string, DateTimeOffset>>
{
    public override Dictionary<string, DateTimeOffset> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"expected an object, not {reader.TokenType}");
        }

        var result = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            reader.Read();
            result[key] = TimeJsonConverter.ReadTimestamp(ref reader);
        }

        return result;
    }

    public override void Write(Utf8JsonWriter writer, Dictionary<string, DateTimeOffset> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        Span<byte> text = stackalloc byte[Rfc3339.TimeLength];
        foreach (var (key, time) in value)
        {
            writer.WriteString(key, text[..Rfc3339.FormatTime(time, text)]);
        }

        writer.WriteEndObject();
    }
}
