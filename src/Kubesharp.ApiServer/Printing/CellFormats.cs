using System.Globalization;
using System.Text;
using System.Text.Json;
using Kubesharp.ApiMachinery;

namespace Kubesharp.ApiServer.Printing;

/// <summary>Cell texts several kinds share, written as kubectl users know them from upstream's tables.</summary>
internal static class CellFormats
{
    public const string None = "<none>";
    public const string Unset = "<unset>";
    public const string Unknown = "<unknown>";

    /// <summary>A label map as k=v pairs sorted by key; &lt;none&gt; when empty.</summary>
    public static string Labels(JsonElement map)
    {
        if (map.ValueKind != JsonValueKind.Object)
        {
            return None;
        }

        var pairs = new List<string>();
        foreach (var p in map.EnumerateObject())
        {
            pairs.Add(p.Name + "=" + (p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText()));
        }

        if (pairs.Count == 0)
        {
            return None;
        }

        pairs.Sort(StringComparer.Ordinal);
        return string.Join(",", pairs);
    }

    /// <summary>A metav1.LabelSelector in query syntax, requirements sorted by key; &lt;none&gt; for none or an empty one.</summary>
    public static string LabelSelector(JsonElement selector)
    {
        var requirements = new List<(string Key, string Text)>();
        if (selector.Field("matchLabels") is { ValueKind: JsonValueKind.Object } labels)
        {
            foreach (var p in labels.EnumerateObject())
            {
                requirements.Add((p.Name, p.Name + "=" + p.Value.GetString()));
            }
        }

        foreach (var e in selector.Items("matchExpressions"))
        {
            var key = e.Text("key") ?? string.Empty;
            var values = e.Items("values").Select(v => v.GetString() ?? string.Empty).Order(StringComparer.Ordinal);
            requirements.Add((key, e.Text("operator") switch
            {
                "In" => $"{key} in ({string.Join(",", values)})",
                "NotIn" => $"{key} notin ({string.Join(",", values)})",
                "Exists" => key,
                "DoesNotExist" => "!" + key,
                _ => key,
            }));
        }

        return requirements.Count == 0
            ? None
            : string.Join(",", requirements.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Text));
    }

    /// <summary>The names (or images) of a pod spec's containers, comma-separated.</summary>
    public static string Containers(JsonElement podSpec, bool images)
    {
        var text = new StringBuilder();
        foreach (var c in podSpec.Items("containers"))
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(c.Text(images ? "image" : "name"));
        }

        return text.ToString();
    }

    /// <summary>Volume access modes in upstream's fixed order: RWO, ROX, RWX, RWOP.</summary>
    public static string AccessModes(JsonElement modes)
    {
        var present = modes.ValueKind == JsonValueKind.Array ? modes.EnumerateArray().Select(m => m.GetString()).ToHashSet(StringComparer.Ordinal) : [];
        var result = new List<string>(4);
        foreach (var (mode, shortName) in (ReadOnlySpan<(string, string)>)[("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")])
        {
            if (present.Contains(mode))
            {
                result.Add(shortName);
            }
        }

        return string.Join(",", result);
    }

    /// <summary>A quantity in canonical form ("0" when absent, as Go's zero quantity prints); the text as stored when it does not parse.</summary>
    public static string Quantity(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String when ApiMachinery.Quantity.TryParse(value.GetString(), out var q) => q.ToString(),
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number when ApiMachinery.Quantity.TryParse(value.GetRawText(), out var q) => q.ToString(),
        _ => "0",
    };

    /// <summary>Go's strconv form of a *bool: True, False, or &lt;unset&gt;.</summary>
    public static string Bool(bool? value) => value switch
    {
        true => "True",
        false => "False",
        null => Unset,
    };

    /// <summary>The first <paramref name="max"/> items, then " + N more..." for the rest; <paramref name="empty"/> when there are none.</summary>
    public static string FirstItems(IReadOnlyList<string> items, int max, string empty)
    {
        if (items.Count == 0)
        {
            return empty;
        }

        return items.Count > max
            ? string.Join(",", items.Take(max)) + string.Create(CultureInfo.InvariantCulture, $" + {items.Count - max} more...")
            : string.Join(",", items);
    }

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
