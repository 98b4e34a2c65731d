using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiMachinery;

/// <summary>Structural operations on JSON trees shared by patching and field management.</summary>
internal static class JsonTree
{
    public static JsonValueKind Kind(JsonNode? node) => node is null ? JsonValueKind.Null : node.GetValueKind();

    /// <summary>Deep equality where numbers compare by value (1 equals 1.0) and object key order does not matter.</summary>
    public static bool DeepEquals(JsonNode? a, JsonNode? b)
    {
        var kind = Kind(a);
        if (kind != Kind(b))
        {
            return false;
        }

        switch (kind)
        {
            case JsonValueKind.Null or JsonValueKind.True or JsonValueKind.False:
                return true;
            case JsonValueKind.String:
                return string.Equals(a!.GetValue<string>(), b!.GetValue<string>(), StringComparison.Ordinal);
            case JsonValueKind.Number:
                return NumberEquals(a!.ToJsonString(), b!.ToJsonString());
            case JsonValueKind.Array:
                var left = a!.AsArray();
                var right = b!.AsArray();
                if (left.Count != right.Count)
                {
                    return false;
                }

                for (var i = 0; i < left.Count; i++)
                {
                    if (!DeepEquals(left[i], right[i]))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Object:
                var l = a!.AsObject();
                var r = b!.AsObject();
                if (l.Count != r.Count)
                {
                    return false;
                }

                foreach (var (key, value) in l)
                {
                    if (!r.TryGetPropertyValue(key, out var other) || !DeepEquals(value, other))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return false;
        }
    }

    public static JsonNode? Clone(JsonNode? node) => node?.DeepClone();

    /// <summary>The string of a JSON string value, else null.</summary>
    public static string? AsString(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static bool NumberEquals(string a, string b)
    {
        if (string.Equals(a, b, StringComparison.Ordinal))
        {
            return true;
        }

        if (decimal.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var da)
            && decimal.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var db))
        {
            return da == db;
        }

        return double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var fa)
            && double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var fb)
            && fa.Equals(fb);
    }
}
