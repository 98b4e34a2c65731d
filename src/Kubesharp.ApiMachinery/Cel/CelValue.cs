using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiMachinery.Cel;

/// <summary>
/// CEL values at run time: null, bool, long (int), ulong (uint), double, string, byte[], TimeSpan (duration),
/// DateTimeOffset (timestamp), <see cref="CelType"/> (type), lists, <see cref="CelMapValue"/>, <see cref="CelOptional"/>,
/// <see cref="Quantity"/> and <see cref="Uri"/>. JSON converts lazily, following the declared types where known.
/// </summary>
public static class CelValue
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import",
        "let", "loop", "package", "namespace", "return", "var", "void", "while",
    };

    /// <summary>A JSON value as CEL sees it; <paramref name="type"/> (optional) turns formatted strings into timestamps, durations or bytes.</summary>
    public static object? FromJson(JsonNode? node, CelType? type = null)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                return new CelJsonMap(obj, type);
            case JsonArray array:
                return new CelJsonList(array, type?.Kind == CelTypeKind.List ? type.Element : null);
        }

        var element = node is JsonValue v && v.TryGetValue<JsonElement>(out var e) ? e : JsonElement.Parse(node.ToJsonString());
        switch (element.ValueKind)
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                var text = element.GetString()!;
                return type?.Kind switch
                {
                    CelTypeKind.Timestamp when DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var ts) => ts,
                    CelTypeKind.Duration when CelDurations.TryParse(text, out var d) => d,
                    CelTypeKind.Bytes => TryBase64(text),
                    _ => text,
                };
            case JsonValueKind.Number:
                if (type?.Kind != CelTypeKind.Double && element.TryGetInt64(out var l))
                {
                    return l;
                }

                return element.GetDouble();
            default:
                return null;
        }
    }

    /// <summary>A CEL value as JSON (what an admission policy's mutation produces): maps become objects, lists arrays.</summary>
    public static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        bool b => JsonValue.Create(b),
        long l => JsonValue.Create(l),
        ulong u => JsonValue.Create(u),
        double d => JsonValue.Create(d),
        string s => JsonValue.Create(s),
        byte[] bytes => JsonValue.Create(Convert.ToBase64String(bytes)),
        CelJsonMap map => map.Json.DeepClone(),
        CelMapValue map => new JsonObject(map.Keys.Select(k => KeyValuePair.Create(Format(k), ToJson(map.TryGetValue(k, out var v) ? v : null)))),
        IReadOnlyList<object?> list => new JsonArray(list.Select(ToJson).ToArray()),
        CelOptional o => o.HasValue ? ToJson(o.Value) : null,
        _ => JsonValue.Create(Format(value)),
    };

    private static object TryBase64(string text)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return text;
        }
    }

    /// <summary>A property name as CEL reaches it (upstream's escaping), or null when CEL cannot name it.</summary>
    public static string? EscapeFieldName(string name)
    {
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] == '_'))
        {
            return null;
        }

        if (Keywords.Contains(name))
        {
            return $"__{name}__";
        }

        var builder = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == '_' && i + 1 < name.Length && name[i + 1] == '_')
            {
                builder.Append("__underscores__");
                i++;
            }
            else if (c == '.')
            {
                builder.Append("__dot__");
            }
            else if (c == '-')
            {
                builder.Append("__dash__");
            }
            else if (c == '/')
            {
                builder.Append("__slash__");
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == '_')
            {
                builder.Append(c);
            }
            else
            {
                return null;
            }
        }

        return builder.ToString();
    }

    /// <summary>The property name an escaped CEL field name stands for.</summary>
    public static string UnescapeFieldName(string name)
    {
        if (!name.Contains("__", StringComparison.Ordinal))
        {
            return name;
        }

        if (name.Length > 4 && name.StartsWith("__", StringComparison.Ordinal) && name.EndsWith("__", StringComparison.Ordinal) && Keywords.Contains(name[2..^2]))
        {
            return name[2..^2];
        }

        var builder = new StringBuilder();
        for (var i = 0; i < name.Length;)
        {
            if (Match(name, i, "__underscores__", "__", builder, ref i) || Match(name, i, "__dot__", ".", builder, ref i)
                || Match(name, i, "__dash__", "-", builder, ref i) || Match(name, i, "__slash__", "/", builder, ref i))
            {
                continue;
            }

            builder.Append(name[i++]);
        }

        return builder.ToString();
    }

    private static bool Match(string name, int at, string escaped, string plain, StringBuilder builder, ref int i)
    {
        if (string.CompareOrdinal(name, at, escaped, 0, escaped.Length) != 0)
        {
            return false;
        }

        builder.Append(plain);
        i += escaped.Length;
        return true;
    }

    internal static object NormalizeKey(object key) => key switch
    {
        int i => (long)i,
        ulong u when u <= long.MaxValue => (long)u,
        double d when d == Math.Floor(d) && d >= long.MinValue && d < long.MaxValue => (long)d,
        _ => key,
    };

    /// <summary>The CEL type of a value (lists and maps as list(dyn) and map(dyn, dyn)).</summary>
    public static CelType TypeOf(object? value) => value switch
    {
        null => CelType.Null,
        bool => CelType.Bool,
        long => CelType.Int,
        ulong => CelType.Uint,
        double => CelType.Double,
        string => CelType.String,
        byte[] => CelType.Bytes,
        TimeSpan => CelType.Duration,
        DateTimeOffset => CelType.Timestamp,
        CelType => CelType.TypeType,
        CelOptional => CelType.Optional(CelType.Dyn),
        CelMapValue => CelType.Map(CelType.Dyn, CelType.Dyn),
        IReadOnlyList<object?> => CelType.List(CelType.Dyn),
        Quantity => CelType.Quantity,
        Uri => CelType.Url,
        ICelOpaqueValue opaque => opaque.Type,
        _ => CelType.Dyn,
    };

    /// <summary>CEL equality: numbers compare across int, uint and double; lists and maps deeply; other kinds never equal.</summary>
    public static new bool Equals(object? a, object? b)
    {
        switch (a, b)
        {
            case (null, null):
                return true;
            case (null, _) or (_, null):
                return false;
            case (string x, string y):
                return string.Equals(x, y, StringComparison.Ordinal);
            case (bool x, bool y):
                return x == y;
            case (byte[] x, byte[] y):
                return x.AsSpan().SequenceEqual(y);
            case (IReadOnlyList<object?> x, IReadOnlyList<object?> y):
                if (x.Count != y.Count)
                {
                    return false;
                }

                for (var i = 0; i < x.Count; i++)
                {
                    if (!Equals(x[i], y[i]))
                    {
                        return false;
                    }
                }

                return true;
            case (CelMapValue x, CelMapValue y):
                if (x.Count != y.Count)
                {
                    return false;
                }

                foreach (var key in x.Keys)
                {
                    if (!y.TryGetValue(key, out var other) || !x.TryGetValue(key, out var mine) || !Equals(mine, other))
                    {
                        return false;
                    }
                }

                return true;
            case (CelOptional x, CelOptional y):
                return x.HasValue == y.HasValue && (!x.HasValue || Equals(x.Value, y.Value));
            case (CelType x, CelType y):
                return x.Name == y.Name;
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return CompareNumbers(a, b) == 0;
        }

        return a.GetType() == b.GetType() && a.Equals(b);
    }

    internal static bool IsNumber(object? value) => value is long or ulong or double;

    /// <summary>Orders two numbers of any numeric kinds exactly (NaN is unordered: reported as not equal).</summary>
    internal static int? CompareNumbers(object a, object b)
    {
        switch (a, b)
        {
            case (long x, long y):
                return x.CompareTo(y);
            case (ulong x, ulong y):
                return x.CompareTo(y);
            case (long x, ulong y):
                return x < 0 ? -1 : ((ulong)x).CompareTo(y);
            case (ulong x, long y):
                return y < 0 ? 1 : x.CompareTo((ulong)y);
        }

        var dx = ToDouble(a);
        var dy = ToDouble(b);
        if (double.IsNaN(dx) || double.IsNaN(dy))
        {
            return null;
        }

        return dx.CompareTo(dy);
    }

    private static double ToDouble(object value) => value switch
    {
        long l => l,
        ulong u => u,
        double d => d,
        _ => double.NaN,
    };

    /// <summary>A value printed as CEL's string() or upstream's messages show it.</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        ulong u => u.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s => s,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        TimeSpan d => CelDurations.Format(d),
        DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
        CelType t => t.Name,
        Quantity q => q.ToString(),
        Uri u => u.OriginalString,
        IReadOnlyList<object?> list => "[" + string.Join(", ", list.Select(Quote)) + "]",
        CelMapValue map => "{" + string.Join(", ", map.Keys.Select(k => $"{Quote(k)}: {Quote(map.TryGetValue(k, out var v) ? v : null)}")) + "}",
        CelOptional o => o.HasValue ? $"optional.of({Quote(o.Value)})" : "optional.none()",
        _ => value.ToString() ?? string.Empty,
    };

    private static string Quote(object? value) => value is string s ? $"\"{s}\"" : Format(value);
}
