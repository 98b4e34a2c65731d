using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kubesharp.ApiMachinery;

/// <summary>A JSON string or a JSON integer (32-bit); anything else is an error, as upstream.</summary>
public sealed class IntOrStringJsonConverter : JsonConverter<IntOrString>
{
    public override IntOrString Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.String => new IntOrString(reader.GetString()!),
            JsonTokenType.Number when reader.TryGetInt32(out var value) => new IntOrString(value),
            JsonTokenType.Null => default,
            _ => throw new JsonException($"an int-or-string must be a string or a 32-bit integer, not {reader.TokenType}"),
        };

    public override void Write(Utf8JsonWriter writer, IntOrString value, JsonSerializerOptions options)
    {
        if (value.IsString)
        {
            writer.WriteStringValue(value.StringValue);
        }
        else
        {
            writer.WriteNumberValue(value.IntValue);
        }
    }
}
