using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.History;

/// <summary>
/// One revision of one object as history keeps it: the store revision of the write, when and by whom it was made
/// (the field manager the write stamped into managedFields, if any), and the object's stored JSON (for a deletion,
/// its last value). Encoded as JSON with the small fields first, so that pruning reads them without the object.
/// </summary>
internal sealed record HistoryRecord(long Revision, DateTimeOffset Time, string Type, string User, string? Manager)
{
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    public byte[] Encode(ReadOnlySpan<byte> storedObject)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(storedObject.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            WriteHeader(writer);
            writer.WritePropertyName("object");
            writer.WriteRawValue(storedObject, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public void WriteHeader(Utf8JsonWriter writer)
    {
        writer.WriteNumber("revision", Revision);
        writer.WriteString("time", FormatTime(Time));
        writer.WriteString("type", Type);
        writer.WriteString("user", User);
        if (Manager is not null)
        {
            writer.WriteString("manager", Manager);
        }
    }

    /// <summary>The small fields of an encoded record, read without parsing the object; null when they are not there.</summary>
    public static HistoryRecord? DecodeHeader(ReadOnlySpan<byte> encoded)
    {
        var reader = new Utf8JsonReader(encoded);
        long revision = 0;
        DateTimeOffset? time = null;
        string? type = null, user = null, manager = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("object"))
                {
                    break;
                }

                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "revision":
                        revision = reader.GetInt64();
                        break;
                    case "time":
                        time = DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
                        break;
                    case "type":
                        type = reader.GetString();
                        break;
                    case "user":
                        user = reader.GetString();
                        break;
                    case "manager":
                        manager = reader.GetString();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }

        return time is { } at && type is not null && user is not null ? new HistoryRecord(revision, at, type, user, manager) : null;
    }

    /// <summary>The record as the API answers it: the small fields and the object, its resourceVersion the record's revision.</summary>
    public static JsonObject? Decode(ReadOnlySpan<byte> encoded)
    {
        if (JsonNode.Parse(encoded) is not JsonObject node)
        {
            return null;
        }

        if (node["object"]?["metadata"] is JsonObject meta)
        {
            meta["resourceVersion"] = ((long?)node["revision"] ?? 0).ToString(CultureInfo.InvariantCulture);
        }

        return node;
    }
}
