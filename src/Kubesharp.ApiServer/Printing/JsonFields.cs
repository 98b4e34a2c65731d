using System.Globalization;
using System.Text.Json;

namespace Kubesharp.ApiServer.Printing;

/// <summary>Reading fields of a stored object for a cell: an absent or mistyped field reads as absent, never throws.</summary>
internal static class JsonFields
{
    public static JsonElement Field(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;

    public static JsonElement Field(this JsonElement e, string a, string b) => e.Field(a).Field(b);

    public static JsonElement Field(this JsonElement e, string a, string b, string c) => e.Field(a).Field(b).Field(c);

    public static string? Text(this JsonElement e, string name) => e.Field(name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    /// <summary>An integer field; 0 when absent, as Go's zero value prints.</summary>
    public static long Int(this JsonElement e, string name) => e.Number(name) ?? 0;

    public static long? Number(this JsonElement e, string name) =>
        e.Field(name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt64(out var n) ? n : null;

    public static bool? Flag(this JsonElement e, string name) => e.Field(name).ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>The items of an array field (none when absent).</summary>
    public static IEnumerable<JsonElement> Items(this JsonElement e, string name) =>
        e.Field(name) is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray() : [];

    public static int Length(this JsonElement e, string name) => e.Field(name) is { ValueKind: JsonValueKind.Array } a ? a.GetArrayLength() : 0;

    /// <summary>The number of entries of a map field.</summary>
    public static int Entries(this JsonElement e, string name)
    {
        var count = 0;
        if (e.Field(name) is { ValueKind: JsonValueKind.Object } map)
        {
            foreach (var _ in map.EnumerateObject())
            {
                count++;
            }
        }

        return count;
    }

    public static DateTimeOffset? Time(this JsonElement e, string name) =>
        e.Text(name) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    /// <summary>The first condition of <paramref name="type"/> in status.conditions.</summary>
    public static JsonElement Condition(this JsonElement status, string type)
    {
        foreach (var c in status.Items("conditions"))
        {
            if (c.Text("type") == type)
            {
                return c;
            }
        }

        return default;
    }

    public static bool IsConditionTrue(this JsonElement status, string type) => status.Condition(type).Text("status") == "True";
}
