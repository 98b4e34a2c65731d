using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.ApiMachinery.Schema;

/// <summary>
/// Checks every value of a JSON tree against its structural schema before it is stored: integers are integral
/// literals within int32/int64, numbers finite, strings, booleans, lists and maps of the right JSON type,
/// quantities, times, base64 bytes and int-or-string values parseable as upstream's types parse them.
/// Fields the schema does not declare are left to <see cref="UnknownFields"/>; null is accepted everywhere, as
/// upstream's decoder leaves such fields at their zero value.
/// </summary>
public static partial class SchemaTypeChecker
{
    private const string QuantityName = "io.k8s.apimachinery.pkg.api.resource.Quantity";
    private const string QuantityError = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

    /// <summary>Deepest nesting walked; request decoding refuses deeper bodies long before this.</summary>
    public const int MaxDepth = 256;

    /// <summary>The mismatches in document order, at most <paramref name="limit"/> of them.</summary>
    public static IReadOnlyList<TypeMismatch> Check(JsonNode? node, TypeSchema schema, int limit = 100)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var found = new List<TypeMismatch>();
        var walker = new Walker(found, Math.Max(1, limit), schema.Name is null ? "" : ShortName(schema.Name));
        walker.Walk(node, schema, 0);
        return found;
    }

    /// <summary>The first mismatch, as upstream's decoder stops at the first error it reports.</summary>
    public static TypeMismatch? First(JsonNode? node, TypeSchema schema) => Check(node, schema, 1) is [var first, ..] ? first : null;

    /// <summary>
    /// The mismatches of a parsed document, in document order. Checking the parsed form leaves a node tree built on it
    /// unexpanded, so parts that nothing else reads (a ConfigMap's data) are written back as they came.
    /// </summary>
    public static IReadOnlyList<TypeMismatch> Check(JsonElement element, TypeSchema schema, int limit = 100)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var found = new List<TypeMismatch>();
        var walker = new Walker(found, Math.Max(1, limit), schema.Name is null ? "" : ShortName(schema.Name));
        walker.Walk(element, schema, 0);
        return found;
    }

    /// <summary>The first mismatch of a parsed document.</summary>
    public static TypeMismatch? First(JsonElement element, TypeSchema schema) => Check(element, schema, 1) is [var first, ..] ? first : null;

    /// <summary>Where a value is: the validation path, the decoder's path and the struct holding it.</summary>
    private readonly record struct Location(FieldPath? Field, string DecoderPath, string Struct)
    {
        public Location Property(string name, string structName) =>
            new(Field is null ? FieldPath.Root(name) : Field.Child(name), DecoderPath.Length == 0 ? name : $"{DecoderPath}.{name}", structName);

        public Location Index(int index) => this with { Field = (Field ?? FieldPath.Root("")).Index(index) };

        public Location Key(string key) => this with { Field = (Field ?? FieldPath.Root("")).Key(key) };
    }

    /// <summary>One step below the root: a property (with the schema name of the object holding it), an index or a map key.</summary>
    private readonly record struct Step(string? Name, int Index, string? HolderSchema, bool IsProperty);

    private sealed class Walker(List<TypeMismatch> found, int limit, string rootStruct)
    {
        // The steps to the value being checked; a Location (with its allocated paths) is built only for a mismatch,
        // since almost every body has none.
        private readonly List<Step> _path = [];

        public void Walk(JsonNode? node, TypeSchema schema, int depth)
        {
            if (node is null || found.Count >= limit || depth > MaxDepth)
            {
                return;
            }

            var kind = node.GetValueKind();
            switch (schema.Kind)
            {
                case SchemaKind.Object:
                    if (node is not JsonObject obj)
                    {
                        Add(schema, kind);
                        return;
                    }

                    // Indexed rather than enumerated: JsonObject's enumerator is an allocation per object of every body.
                    for (var i = 0; i < obj.Count; i++)
                    {
                        var (name, value) = obj.GetAt(i);
                        if (value is not null && schema.Properties.TryGetValue(name, out var field))
                        {
                            _path.Add(new Step(name, 0, schema.Name, IsProperty: true));
                            Walk(value, field.Type, depth + 1);
                            _path.RemoveAt(_path.Count - 1);
                        }
                    }

                    return;
                case SchemaKind.Array:
                    if (node is not JsonArray array)
                    {
                        Add(schema, kind);
                        return;
                    }

                    if (schema.Items is { } itemSchema)
                    {
                        for (var i = 0; i < array.Count && found.Count < limit; i++)
                        {
                            _path.Add(new Step(null, i, null, IsProperty: false));
                            Walk(array[i], itemSchema, depth + 1);
                            _path.RemoveAt(_path.Count - 1);
                        }
                    }

                    return;
                case SchemaKind.Map:
                    if (node is not JsonObject map)
                    {
                        Add(schema, kind);
                        return;
                    }

                    if (schema.Items is { } valueSchema)
                    {
                        for (var i = 0; i < map.Count; i++)
                        {
                            var (key, value) = map.GetAt(i);
                            if (value is not null)
                            {
                                _path.Add(new Step(key, 0, null, IsProperty: false));
                                Walk(value, valueSchema, depth + 1);
                                _path.RemoveAt(_path.Count - 1);
                            }
                        }
                    }

                    return;
                default:
                    CheckScalar(new Scalar(node, default), schema);
                    return;
            }
        }

        public void Walk(JsonElement element, TypeSchema schema, int depth)
        {
            var kind = element.ValueKind;
            if (kind is JsonValueKind.Null or JsonValueKind.Undefined || found.Count >= limit || depth > MaxDepth)
            {
                return;
            }

            switch (schema.Kind)
            {
                case SchemaKind.Object:
                    if (kind != JsonValueKind.Object)
                    {
                        Add(schema, kind);
                        return;
                    }

                    foreach (var property in element.EnumerateObject())
                    {
                        if (property.Value.ValueKind != JsonValueKind.Null && schema.Properties.TryGetValue(property.Name, out var field))
                        {
                            _path.Add(new Step(property.Name, 0, schema.Name, IsProperty: true));
                            Walk(property.Value, field.Type, depth + 1);
                            _path.RemoveAt(_path.Count - 1);
                        }
                    }

                    return;
                case SchemaKind.Array:
                    if (kind != JsonValueKind.Array)
                    {
                        Add(schema, kind);
                        return;
                    }

                    if (schema.Items is { } itemSchema)
                    {
                        var i = 0;
                        foreach (var item in element.EnumerateArray())
                        {
                            if (found.Count >= limit)
                            {
                                break;
                            }

                            _path.Add(new Step(null, i++, null, IsProperty: false));
                            Walk(item, itemSchema, depth + 1);
                            _path.RemoveAt(_path.Count - 1);
                        }
                    }

                    return;
                case SchemaKind.Map:
                    if (kind != JsonValueKind.Object)
                    {
                        Add(schema, kind);
                        return;
                    }

                    if (schema.Items is { } valueSchema)
                    {
                        foreach (var property in element.EnumerateObject())
                        {
                            if (property.Value.ValueKind != JsonValueKind.Null)
                            {
                                _path.Add(new Step(property.Name, 0, null, IsProperty: false));
                                Walk(property.Value, valueSchema, depth + 1);
                                _path.RemoveAt(_path.Count - 1);
                            }
                        }
                    }

                    return;
                default:
                    CheckScalar(new Scalar(null, element), schema);
                    return;
            }
        }

        /// <summary>A value that is not an object, list or map in its schema (it may still be one in the body).</summary>
        private void CheckScalar(Scalar value, TypeSchema schema)
        {
            var kind = value.Kind;
            switch (schema.Kind)
            {
                case SchemaKind.String:
                    CheckString(value, schema, kind);
                    return;
                case SchemaKind.Boolean:
                    if (kind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        Add(schema, kind);
                    }

                    return;
                case SchemaKind.Integer:
                    if (kind != JsonValueKind.Number)
                    {
                        Add(schema, kind);
                    }
                    else if (!IsInteger(value.Literal(), schema.Format == "int32"))
                    {
                        Add(schema, kind, literal: value.Literal());
                    }

                    return;
                case SchemaKind.Number:
                    if (kind != JsonValueKind.Number)
                    {
                        Add(schema, kind);
                    }
                    else if (!double.TryParse(value.Literal(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
                    {
                        Add(schema, kind, literal: value.Literal());
                    }

                    return;
                case SchemaKind.IntOrString:
                    if (kind == JsonValueKind.String)
                    {
                        return;
                    }

                    // Upstream reads a non-string as int32 and reports it without a struct.
                    if (kind != JsonValueKind.Number || !IsInteger(value.Literal(), int32: true))
                    {
                        var literal = kind == JsonValueKind.Number ? value.Literal() : null;
                        var text = literal is null ? (kind is JsonValueKind.True or JsonValueKind.False ? "bool" : JsonTypeName(kind)) : $"number {literal}";
                        Add(schema, kind, literal, $"json: cannot unmarshal {text} into Go value of type int32");
                    }

                    return;
                default:
                    return;
            }
        }

        private void CheckString(Scalar node, TypeSchema schema, JsonValueKind kind)
        {
            if (schema.Name == QuantityName)
            {
                // A quantity reads strings and bare numbers alike.
                var text = kind == JsonValueKind.String ? node.Text() : kind == JsonValueKind.Number ? node.Literal() : node.Compact();
                if (!Quantity.TryParse(text, out _))
                {
                    Add(schema, kind, detail: QuantityError);
                }

                return;
            }

            if (kind != JsonValueKind.String)
            {
                Add(schema, kind, detail: schema.Format == "date-time" ? $"json: cannot unmarshal {JsonTypeName(kind)} into Go value of type string" : null);
                return;
            }

            var value = node.Text();
            switch (schema.Format)
            {
                case "date-time" when !Rfc3339.TryParse(value, out _):
                    Add(schema, kind, detail: $"parsing time {QuotedString.Quote(value)} as \"2006-01-02T15:04:05Z07:00\": cannot parse {QuotedString.Quote(value)} as \"2006\"");
                    break;
                case "byte" when !IsBase64(value, out var offset):
                    Add(schema, kind, detail: string.Create(CultureInfo.InvariantCulture, $"illegal base64 data at input byte {offset}"));
                    break;
            }
        }

        private void Add(TypeSchema schema, JsonValueKind kind, string? literal = null, string? detail = null)
        {
            if (found.Count >= limit)
            {
                return;
            }

            var at = Here();
            found.Add(new TypeMismatch
            {
                Field = at.Field ?? FieldPath.Root(""),
                DecoderPath = at.DecoderPath,
                Struct = at.Struct,
                GoType = GoType(schema),
                SchemaType = SchemaTypeName(schema),
                JsonType = JsonTypeName(kind),
                Literal = literal,
                Detail = detail,
            });
        }

        /// <summary>The location of the value being checked, from the steps to it.</summary>
        private Location Here()
        {
            var at = new Location(null, "", rootStruct);
            foreach (var step in _path)
            {
                at = step switch
                {
                    { IsProperty: true } => at.Property(step.Name!, step.HolderSchema is null ? at.Struct : ShortName(step.HolderSchema)),
                    { Name: null } => at.Index(step.Index),
                    _ => at.Key(step.Name),
                };
            }

            return at;
        }
    }

    /// <summary>A number's text as written (parsed values keep it; values built in code are printed).</summary>
    private static string Literal(JsonNode node)
    {
        if (node is JsonValue value && value.TryGetValue<JsonElement>(out var element))
        {
            return element.GetRawText();
        }

        return node.ToJsonString();
    }

    /// <summary>A value being checked, from a node tree or from a parsed document.</summary>
    private readonly struct Scalar(JsonNode? node, JsonElement element)
    {
        public JsonValueKind Kind => node is null ? element.ValueKind : node.GetValueKind();

        /// <summary>A number's text as written.</summary>
        public string Literal() => node is null ? element.GetRawText() : SchemaTypeChecker.Literal(node);

        /// <summary>A string's value.</summary>
        public string Text() => node is null ? element.GetString()! : node.GetValue<string>();

        /// <summary>Any value as JSON text.</summary>
        public string Compact() => node is null ? element.GetRawText() : node.ToJsonString();
    }

    /// <summary>What Go's integer decoding accepts: an optional minus and digits, in range; "1.0" and "1e3" are not integers.</summary>
    private static bool IsInteger(string literal, bool int32) =>
        IntegerSyntax().IsMatch(literal) &&
        (int32
            ? int.TryParse(literal, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            : long.TryParse(literal, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _));

    /// <summary>Standard base64 with padding, as Go's decoder reads it (line breaks skipped, nothing else).</summary>
    private static bool IsBase64(string value, out int offset)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(value[i]) || value[i] is '+' or '/' or '=' or '\r' or '\n'))
            {
                offset = i;
                return false;
            }
        }

        offset = 0;
        var buffer = new byte[(value.Length / 4 * 3) + 3];
        if (Convert.TryFromBase64String(value, buffer, out _))
        {
            return true;
        }

        var padding = value.IndexOf('=', StringComparison.Ordinal);
        offset = padding >= 0 ? padding : value.Length / 4 * 4;
        return false;
    }

    private static string ShortName(string definition) => definition[(definition.LastIndexOf('.') + 1)..];

    /// <summary>The Go type a schema maps to, as the decoder names it.</summary>
    private static string GoType(TypeSchema schema) => schema.Kind switch
    {
        SchemaKind.Object when schema.Name is { } name => PackageQualified(name),
        SchemaKind.Object => "struct",
        SchemaKind.Array => "[]" + (schema.Items is { } items ? GoType(items) : "interface {}"),
        SchemaKind.Map => "map[string]" + (schema.Items is { } values ? GoType(values) : "interface {}"),
        SchemaKind.String when schema.Name is { } name => PackageQualified(name),
        SchemaKind.String when schema.Format == "byte" => "[]uint8",
        SchemaKind.String => "string",
        SchemaKind.Integer => schema.Format == "int32" ? "int32" : "int64",
        SchemaKind.Number => "float64",
        SchemaKind.Boolean => "bool",
        SchemaKind.IntOrString => "intstr.IntOrString",
        _ => "interface {}",
    };

    /// <summary>io.k8s.api.core.v1.Container → v1.Container.</summary>
    private static string PackageQualified(string definition)
    {
        var last = definition.LastIndexOf('.');
        var package = definition.LastIndexOf('.', Math.Max(0, last - 1));
        return package < 0 ? definition : definition[(package + 1)..];
    }

    private static string SchemaTypeName(TypeSchema schema) => schema.Kind switch
    {
        SchemaKind.Object or SchemaKind.Map => "object",
        SchemaKind.Array => "array",
        SchemaKind.String => "string",
        SchemaKind.Integer => "integer",
        SchemaKind.Number => "number",
        SchemaKind.Boolean => "boolean",
        SchemaKind.IntOrString => "integer or string",
        _ => "any",
    };

    private static string JsonTypeName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    [GeneratedRegex("^-?[0-9]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex IntegerSyntax();
}
