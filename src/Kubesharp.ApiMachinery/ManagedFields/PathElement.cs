using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.ManagedFields;

/// <summary>
/// One step of a managed-field path, identified by its FieldsV1 encoding: <c>f:name</c> (a field or map key),
/// <c>k:{"name":"x"}</c> (a list-map item by its keys), <c>v:"x"</c> (a set item by value), <c>i:0</c> (an index).
/// </summary>
public readonly record struct PathElement : IComparable<PathElement>
{
    private static readonly JsonSerializerOptions CanonicalJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Managed fields of every object repeat the same item keys; parsing each once keeps reads cheap.
    private const int MaxParsedElements = 65536;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, PathElement> ParsedElements = new(StringComparer.Ordinal);

    private PathElement(string encoded) => Encoded = encoded;

    /// <summary>The FieldsV1 key of this element.</summary>
    public string Encoded { get; }

    public bool IsField => Encoded.StartsWith("f:", StringComparison.Ordinal);

    public bool IsKey => Encoded.StartsWith("k:", StringComparison.Ordinal);

    public bool IsValue => Encoded.StartsWith("v:", StringComparison.Ordinal);

    public bool IsIndex => Encoded.StartsWith("i:", StringComparison.Ordinal);

    /// <summary>The field name of a field element.</summary>
    public string FieldName => IsField ? Encoded[2..] : throw new InvalidOperationException("not a field element");

    public static PathElement Field(string name) => new("f:" + name);

    public static PathElement Index(int index) => new("i:" + index.ToString(CultureInfo.InvariantCulture));

    /// <summary>A set item identified by its value.</summary>
    public static PathElement Value(JsonNode? value) => new("v:" + Canonical(value));

    /// <summary>A list-map item identified by its key fields (written sorted by name).</summary>
    public static PathElement Key(IEnumerable<KeyValuePair<string, JsonNode?>> keys)
    {
        var builder = new StringBuilder("k:{");
        var first = true;
        foreach (var (name, value) in keys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            if (!first)
            {
                builder.Append(',');
            }

            first = false;
            builder.Append(Canonical(JsonValue.Create(name))).Append(':').Append(Canonical(value));
        }

        return new(builder.Append('}').ToString());
    }

    /// <summary>Parses a FieldsV1 key; a malformed key is a 400 BadRequest.</summary>
    public static PathElement Parse(string encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.StartsWith("f:", StringComparison.Ordinal))
        {
            return new(encoded);
        }

        if (ParsedElements.TryGetValue(encoded, out var cached))
        {
            return cached;
        }

        var parsed = ParseUncached(encoded);
        if (ParsedElements.Count >= MaxParsedElements)
        {
            ParsedElements.Clear();
        }

        ParsedElements[encoded] = parsed;
        return parsed;
    }

    private static PathElement ParseUncached(string encoded)
    {
        if (encoded.Length < 2 || encoded[1] != ':')
        {
            throw Invalid(encoded);
        }

        var body = encoded[2..];
        try
        {
            switch (encoded[0])
            {
                case 'f':
                    return Field(body);
                case 'i' when int.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out var index):
                    return Index(index);
                case 'v':
                    return Value(JsonNode.Parse(body));
                case 'k' when JsonNode.Parse(body) is JsonObject keys:
                    return Key(keys.ToList());
            }
        }
        catch (JsonException)
        {
        }

        throw Invalid(encoded);
    }

    /// <summary>The element as upstream prints paths in conflicts: <c>.name</c>, <c>[name="x"]</c>, <c>[="x"]</c>, <c>[0]</c>.</summary>
    public override string ToString()
    {
        switch (Encoded[0])
        {
            case 'f':
                return "." + Encoded[2..];
            case 'i':
                return "[" + Encoded[2..] + "]";
            case 'v':
                return "[=" + Display(JsonNode.Parse(Encoded[2..])) + "]";
            default:
                var keys = JsonNode.Parse(Encoded[2..])!.AsObject();
                return "[" + string.Join(",", keys.Select(k => k.Key + "=" + Display(k.Value))) + "]";
        }
    }

    public int CompareTo(PathElement other)
    {
        // Sorted collections compare against default elements (e.g. the bounds of an empty set).
        var left = Encoded ?? "";
        var right = other.Encoded ?? "";
        var rank = Rank(left).CompareTo(Rank(right));
        return rank != 0 ? rank : string.CompareOrdinal(left, right);
    }

    public static bool operator <(PathElement left, PathElement right) => left.CompareTo(right) < 0;

    public static bool operator <=(PathElement left, PathElement right) => left.CompareTo(right) <= 0;

    public static bool operator >(PathElement left, PathElement right) => left.CompareTo(right) > 0;

    public static bool operator >=(PathElement left, PathElement right) => left.CompareTo(right) >= 0;

    internal static string Canonical(JsonNode? value)
    {
        switch (value)
        {
            case null:
                return "null";
            case JsonValue scalar:
                switch (scalar.GetValueKind())
                {
                    case JsonValueKind.String:
                        var text = scalar.GetValue<string>();
                        return NeedsEscaping(text) ? scalar.ToJsonString(CanonicalJson) : string.Concat("\"", text, "\"");
                    case JsonValueKind.True:
                        return "true";
                    case JsonValueKind.False:
                        return "false";
                    default:
                        return scalar.ToJsonString(CanonicalJson);
                }

            default:
                return Canonicalize(value).ToJsonString(CanonicalJson);
        }
    }

    private static bool NeedsEscaping(string text)
    {
        foreach (var c in text)
        {
            if (c < 0x20 || c is '"' or '\\' || c > 0x7e)
            {
                return true;
            }
        }

        return false;
    }

    private static JsonNode Canonicalize(JsonNode node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, p.Value is null ? null : Canonicalize(p.Value)))),
        JsonArray array => new JsonArray(array.Select(i => i is null ? null : Canonicalize(i)).ToArray()),
        _ => node.DeepClone(),
    };

    private static string Display(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v when v.TryGetValue(out string? s) => QuotedString.Quote(s),
        _ => value.ToJsonString(CanonicalJson),
    };

    private static int Rank(string encoded) => encoded.Length == 0 ? -1 : encoded[0] switch
    {
        'f' => 0,
        'k' => 1,
        'v' => 2,
        _ => 3,
    };

    private static StatusException Invalid(string encoded) =>
        StatusException.BadRequest($"invalid managedFields: unrecognized path element {QuotedString.Quote(encoded)}");
}
