using System.Text.Json;
using System.Text.Json.Serialization;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.Client;

/// <summary>
/// Reads JSON strings through a <see cref="StringPool"/>, so that objects decoded from the server share one copy of
/// each repeated string: label keys and values, namespaces, node names, images, condition types and reasons, and the
/// uid and name of an object that several informers of one process decode.
/// </summary>
internal sealed class PooledStringConverter : JsonConverter<string>
{
    private readonly StringPool pool = new(16);

    public override bool HandleNull => false;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadPooled(ref reader);

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadPooled(ref reader)!;

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);

    // Everything unusual, errors included, goes the built-in way.
    private string? ReadPooled(ref Utf8JsonReader reader) =>
        reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !reader.ValueIsEscaped && !reader.HasValueSequence
        && pool.GetUtf8(reader.ValueSpan) is { } pooled ? pooled : reader.GetString();
}
