using System.Text.Json;

namespace Kubesharp.ApiMachinery.Serialization;

/// <summary>A member of a JSON object's top level, found by name in its bytes without decoding the rest.</summary>
public static class JsonMember
{
    /// <summary>
    /// The bytes of the value of the first member named <paramref name="name"/>; empty when
    /// <paramref name="json"/> is not an object or has no such member. Malformed JSON throws <see cref="JsonException"/>.
    /// </summary>
    public static ReadOnlySpan<byte> Find(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return default;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var found = reader.ValueTextEquals(name);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (found)
            {
                return json[start..(int)reader.BytesConsumed];
            }
        }

        return default;
    }

    /// <summary>The first member named <paramref name="name"/> when its value is a string, else null.</summary>
    public static string? FindString(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name)
    {
        var value = Find(json, name);
        if (value.IsEmpty || value[0] != (byte)'"')
        {
            return null;
        }

        var reader = new Utf8JsonReader(value);
        reader.Read();
        return reader.GetString();
    }
}
