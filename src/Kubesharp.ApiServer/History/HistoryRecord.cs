using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.History;

/// <summary>
/// What history tells of one write besides the object: the store revision of the write, when and by whom it was made
/// (the field manager the write stamped into managedFields, if any). A deletion's index entry begins with it.
/// </summary>
internal sealed record HistoryRecord(long Revision, DateTimeOffset Time, string Type, string User, string? Manager)
{
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

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

    /// <summary>The small fields of a parsed record; null when they are not there.</summary>
    public static HistoryRecord? DecodeHeader(JsonObject record) =>
        (string?)record["time"] is { } time && DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
        && (string?)record["type"] is { } type && (string?)record["user"] is { } user
            ? new HistoryRecord((long?)record["revision"] ?? 0, at, type, user, (string?)record["manager"])
            : null;
}
