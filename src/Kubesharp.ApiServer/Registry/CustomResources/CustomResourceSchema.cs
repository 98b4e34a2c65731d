using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kubesharp.Api;
using Kubesharp.ApiMachinery.Schema;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.CustomResources;

/// <summary>
/// One node of a custom resource's structural schema (openAPIV3Schema): what objects are validated against, how
/// unknown fields are pruned and where defaults apply. Validation answers with upstream's causes and field paths.
/// </summary>
internal sealed class CustomResourceSchema
{
    private const int MaxDepth = 64;

    private Regex? _pattern;

    public string? Type { get; private init; }

    public string? Format { get; private init; }

    public Dictionary<string, CustomResourceSchema> Properties { get; } = new(StringComparer.Ordinal);

    public CustomResourceSchema? Items { get; private set; }

    public CustomResourceSchema? AdditionalProperties { get; private set; }

    public IReadOnlyList<string> Required { get; private init; } = [];

    public IReadOnlyList<JsonNode?>? Enum { get; private init; }

    public double? Minimum { get; private init; }

    public double? Maximum { get; private init; }

    public bool ExclusiveMinimum { get; private init; }

    public bool ExclusiveMaximum { get; private init; }

    public double? MultipleOf { get; private init; }

    public long? MinLength { get; private init; }

    public long? MaxLength { get; private init; }

    public long? MinItems { get; private init; }

    public long? MaxItems { get; private init; }

    public long? MinProperties { get; private init; }

    public long? MaxProperties { get; private init; }

    public string? Pattern { get; private init; }

    public bool UniqueItems { get; private init; }

    public bool Nullable { get; private init; }

    public bool PreserveUnknownFields { get; private init; }

    public bool EmbeddedResource { get; private init; }

    public bool IntOrString { get; private init; }

    public string? ListType { get; private init; }

    public IReadOnlyList<string> ListMapKeys { get; private init; } = [];

    public string? MapType { get; private init; }

    public JsonNode? Default { get; private init; }

    public List<CustomResourceSchema> AllOf { get; } = [];

    public List<CustomResourceSchema> AnyOf { get; } = [];

    public List<CustomResourceSchema> OneOf { get; } = [];

    public CustomResourceSchema? Not { get; private set; }

    /// <summary>The node's <c>x-kubernetes-validations</c> (CEL rules, compiled by <see cref="CustomResourceCelValidator"/>).</summary>
    public IReadOnlyList<CustomResourceValidationRule> Validations { get; private init; } = [];

    public static CustomResourceSchema Parse(JsonObject node) => Parse(node, 0);

    private static CustomResourceSchema Parse(JsonObject node, int depth)
    {
        if (depth > MaxDepth)
        {
            return new CustomResourceSchema { PreserveUnknownFields = true };
        }

        var schema = new CustomResourceSchema
        {
            Type = (string?)Value(node, "type"),
            Format = (string?)Value(node, "format"),
            Required = (node["required"] as JsonArray)?.Select(r => (string?)Value(r)).OfType<string>().ToList() ?? [],
            Enum = (node["enum"] as JsonArray)?.Select(e => e?.DeepClone()).ToList(),
            Minimum = Number(node["minimum"]),
            Maximum = Number(node["maximum"]),
            ExclusiveMinimum = Bool(node["exclusiveMinimum"]),
            ExclusiveMaximum = Bool(node["exclusiveMaximum"]),
            MultipleOf = Number(node["multipleOf"]),
            MinLength = Long(node["minLength"]),
            MaxLength = Long(node["maxLength"]),
            MinItems = Long(node["minItems"]),
            MaxItems = Long(node["maxItems"]),
            MinProperties = Long(node["minProperties"]),
            MaxProperties = Long(node["maxProperties"]),
            Pattern = (string?)Value(node, "pattern"),
            UniqueItems = Bool(node["uniqueItems"]),
            Nullable = Bool(node["nullable"]),
            PreserveUnknownFields = Bool(node["x-kubernetes-preserve-unknown-fields"]),
            EmbeddedResource = Bool(node["x-kubernetes-embedded-resource"]),
            IntOrString = Bool(node["x-kubernetes-int-or-string"]),
            ListType = (string?)Value(node, "x-kubernetes-list-type"),
            ListMapKeys = (node["x-kubernetes-list-map-keys"] as JsonArray)?.Select(k => (string?)Value(k)).OfType<string>().ToList() ?? [],
            MapType = (string?)Value(node, "x-kubernetes-map-type"),
            Default = node["default"]?.DeepClone(),
            Validations = CustomResourceValidationRule.Parse(node["x-kubernetes-validations"]),
        };
        if (node["properties"] is JsonObject properties)
        {
            foreach (var (name, child) in properties)
            {
                if (child is JsonObject childSchema)
                {
                    schema.Properties[name] = Parse(childSchema, depth + 1);
                }
            }
        }

        if (node["items"] is JsonObject items)
        {
            schema.Items = Parse(items, depth + 1);
        }

        if (node["additionalProperties"] is JsonObject additional)
        {
            schema.AdditionalProperties = Parse(additional, depth + 1);
        }
        else if (node["additionalProperties"] is JsonValue allowed && allowed.TryGetValue<bool>(out var any) && any)
        {
            schema.AdditionalProperties = new CustomResourceSchema { PreserveUnknownFields = true };
        }

        foreach (var (field, list) in new[] { ("allOf", schema.AllOf), ("anyOf", schema.AnyOf), ("oneOf", schema.OneOf) })
        {
            if (node[field] is JsonArray branches)
            {
                list.AddRange(branches.OfType<JsonObject>().Select(b => Parse(b, depth + 1)));
            }
        }

        if (node["not"] is JsonObject not)
        {
            schema.Not = Parse(not, depth + 1);
        }

        return schema;
    }

    /// <summary>Validates an object of the resource: everything but apiVersion, kind and metadata against the schema.</summary>
    public void ValidateObject(JsonObject obj, List<StatusCause> causes)
    {
        foreach (var (name, value) in obj)
        {
            if (name is "apiVersion" or "kind" or "metadata")
            {
                continue;
            }

            if (Properties.TryGetValue(name, out var property))
            {
                property.Validate(value, name, causes, 1);
            }
        }

        foreach (var required in Required)
        {
            if (required is not ("apiVersion" or "kind" or "metadata") && !obj.ContainsKey(required))
            {
                causes.Add(new StatusCause("FieldValueRequired", "Required value", required));
            }
        }
    }

    private void Validate(JsonNode? value, string path, List<StatusCause> causes, int depth)
    {
        if (depth > MaxDepth)
        {
            return;
        }

        if (value is null)
        {
            if (!Nullable && Type is not null && !PreserveUnknownFields)
            {
                causes.Add(new StatusCause("FieldValueTypeInvalid", $"Invalid value: \"null\": {path} in body must be of type {Type}: \"null\"", path));
            }

            return;
        }

        var kind = value.GetValueKind();
        if (IntOrString)
        {
            if (kind is not (JsonValueKind.String or JsonValueKind.Number))
            {
                causes.Add(new StatusCause("FieldValueTypeInvalid", $"Invalid value: \"{TypeName(value)}\": {path} in body must be of type integer,string: \"{TypeName(value)}\"", path));
                return;
            }
        }
        else if (Type is not null && !Matches(Type, value))
        {
            causes.Add(new StatusCause("FieldValueTypeInvalid", $"Invalid value: \"{TypeName(value)}\": {path} in body must be of type {Type}: \"{TypeName(value)}\"", path));
            return;
        }

        if (Enum is { Count: > 0 } && !Enum.Any(e => JsonNode.DeepEquals(e, value)))
        {
            var supported = Enum.Select(e => e?.GetValueKind() == JsonValueKind.String ? $"\"{(string?)e}\"" : e?.ToJsonString() ?? "null");
            causes.Add(new StatusCause("FieldValueNotSupported", $"Unsupported value: {Show(value)}: supported values: {string.Join(", ", supported)}", path));
        }

        switch (kind)
        {
            case JsonValueKind.String:
                ValidateString(value.GetValue<string>(), path, causes);
                break;
            case JsonValueKind.Number:
                ValidateNumber(value, path, causes);
                break;
            case JsonValueKind.Array:
                ValidateArray(value.AsArray(), path, causes, depth);
                break;
            case JsonValueKind.Object:
                ValidateProperties(value.AsObject(), path, causes, depth);
                break;
        }

        foreach (var branch in AllOf)
        {
            branch.Validate(value, path, causes, depth + 1);
        }

        if (AnyOf.Count > 0 && !AnyOf.Any(b => b.Passes(value, path, depth)))
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {Show(value)}: {path} in body must be of type {AnyOf[0].Type ?? "object"}: {Show(value)}", path));
        }

        if (OneOf.Count > 0 && OneOf.Count(b => b.Passes(value, path, depth)) != 1)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {Show(value)}: {path} in body should match exactly one schema in oneOf", path));
        }

        if (Not is not null && Not.Passes(value, path, depth))
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {Show(value)}: {path} in body must not validate the schema (not)", path));
        }
    }

    private bool Passes(JsonNode value, string path, int depth)
    {
        var causes = new List<StatusCause>();
        Validate(value, path, causes, depth + 1);
        return causes.Count == 0;
    }

    private void ValidateString(string text, string path, List<StatusCause> causes)
    {
        var length = System.Text.Encoding.UTF8.GetByteCount(text);
        if (MaxLength is { } max && text.Length > max)
        {
            causes.Add(new StatusCause("FieldValueTooLong", $"Too long: may not be more than {max} bytes", path));
        }

        if (MinLength is { } min && length < min)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: \"{text}\": {path} in body should be at least {min} chars long", path));
        }

        if (Pattern is not null)
        {
            try
            {
                _pattern ??= new Regex(Pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
                if (!_pattern.IsMatch(text))
                {
                    causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: \"{text}\": {path} in body should match '{Pattern}'", path));
                }
            }
            catch (Exception ex) when (ex is ArgumentException or RegexMatchTimeoutException)
            {
                causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: \"{text}\": {path} in body should match '{Pattern}'", path));
            }
        }

        var formatProblem = Format switch
        {
            "date-time" when !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _) => "date-time",
            "date" when !DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) => "date",
            "uuid" when !Guid.TryParse(text, out _) => "uuid",
            "ipv4" when !(System.Net.IPAddress.TryParse(text, out var ip4) && ip4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) => "ipv4",
            "ipv6" when !(System.Net.IPAddress.TryParse(text, out var ip6) && ip6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) => "ipv6",
            "byte" when !IsBase64(text) => "byte",
            _ => null,
        };
        if (formatProblem is not null)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: \"{text}\": {path} in body must be of type {formatProblem}: \"{text}\"", path));
        }
    }

    private void ValidateNumber(JsonNode value, string path, List<StatusCause> causes)
    {
        var number = Element(value).GetDouble();
        var shown = Show(value);
        if (Maximum is { } max && (ExclusiveMaximum ? number >= max : number > max))
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {shown}: {path} in body should be less than {(ExclusiveMaximum ? string.Empty : "or equal to ")}{Show(max)}", path));
        }

        if (Minimum is { } min && (ExclusiveMinimum ? number <= min : number < min))
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {shown}: {path} in body should be greater than {(ExclusiveMinimum ? string.Empty : "or equal to ")}{Show(min)}", path));
        }

        if (MultipleOf is { } factor && factor > 0 && Math.Abs(Math.IEEERemainder(number, factor)) > 1e-9)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {shown}: {path} in body should be a multiple of {Show(factor)}", path));
        }
    }

    private void ValidateArray(JsonArray array, string path, List<StatusCause> causes, int depth)
    {
        if (MaxItems is { } max && array.Count > max)
        {
            causes.Add(new StatusCause("FieldValueTooMany", $"Too many: {array.Count}: must have at most {max} items", path));
        }

        if (MinItems is { } min && array.Count < min)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {array.Count}: {path} in body should have at least {min} items", path));
        }

        for (var i = 0; i < array.Count; i++)
        {
            Items?.Validate(array[i], $"{path}[{i}]", causes, depth + 1);
        }

        if (ListType == "set" || UniqueItems)
        {
            for (var i = 1; i < array.Count; i++)
            {
                for (var j = 0; j < i; j++)
                {
                    if (JsonNode.DeepEquals(array[i], array[j]))
                    {
                        causes.Add(new StatusCause("FieldValueDuplicate", $"Duplicate value: {Show(array[i])}", $"{path}[{i}]"));
                        break;
                    }
                }
            }
        }
        else if (ListType == "map" && ListMapKeys.Count > 0)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is not JsonObject item)
                {
                    continue;
                }

                var key = string.Join("\u0000", ListMapKeys.Select(k => item[k]?.ToJsonString() ?? "null"));
                if (!seen.Add(key))
                {
                    var shown = "map[string]interface {}{" + string.Join(", ", ListMapKeys.Select(k => $"\"{k}\":{Show(item[k])}")) + "}";
                    causes.Add(new StatusCause("FieldValueDuplicate", $"Duplicate value: {shown}", $"{path}[{i}]"));
                }
            }
        }
    }

    private void ValidateProperties(JsonObject obj, string path, List<StatusCause> causes, int depth)
    {
        if (MaxProperties is { } max && obj.Count > max)
        {
            causes.Add(new StatusCause("FieldValueTooMany", $"Too many: {obj.Count}: must have at most {max} items", path));
        }

        if (MinProperties is { } min && obj.Count < min)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {obj.Count}: {path} in body should have at least {min} properties", path));
        }

        foreach (var (name, value) in obj)
        {
            if (Properties.TryGetValue(name, out var property))
            {
                property.Validate(value, $"{path}.{name}", causes, depth + 1);
            }
            else if (AdditionalProperties is not null)
            {
                AdditionalProperties.Validate(value, $"{path}[{name}]", causes, depth + 1);
            }
        }

        foreach (var required in Required)
        {
            if (!obj.ContainsKey(required))
            {
                causes.Add(new StatusCause("FieldValueRequired", "Required value", $"{path}.{required}"));
            }
        }
    }

    /// <summary>Sets the schema's defaults where fields are absent, from the root down (after pruning, as upstream).</summary>
    public void ApplyDefaults(JsonNode? node) => ApplyDefaults(node, 0);

    private void ApplyDefaults(JsonNode? node, int depth)
    {
        if (depth > MaxDepth)
        {
            return;
        }

        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, property) in Properties)
                {
                    if (!obj.ContainsKey(name) && property.Default is not null)
                    {
                        obj[name] = property.Default.DeepClone();
                    }

                    if (obj[name] is { } child)
                    {
                        property.ApplyDefaults(child, depth + 1);
                    }
                }

                if (AdditionalProperties is not null)
                {
                    foreach (var (name, value) in obj.ToList())
                    {
                        if (!Properties.ContainsKey(name))
                        {
                            AdditionalProperties.ApplyDefaults(value, depth + 1);
                        }
                    }
                }

                break;
            case JsonArray array when Items is not null:
                foreach (var item in array)
                {
                    Items.ApplyDefaults(item, depth + 1);
                }

                break;
        }
    }

    /// <summary>
    /// Finds (and when <paramref name="remove"/>, drops) fields the schema does not declare: objects keep unknown
    /// fields only under x-kubernetes-preserve-unknown-fields; the root and embedded resources keep apiVersion, kind
    /// and metadata, whose own fields follow ObjectMeta.
    /// </summary>
    public List<string> Prune(JsonObject obj, bool remove)
    {
        var found = new List<string>();
        PruneObject(obj, string.Empty, found, remove, root: true, 0);
        return found;
    }

    private void Prune(JsonNode? node, string path, List<string> found, bool remove, int depth)
    {
        if (depth > MaxDepth || node is null)
        {
            return;
        }

        switch (node)
        {
            case JsonObject obj:
                PruneObject(obj, path, found, remove, root: EmbeddedResource, depth);
                break;
            case JsonArray array when Items is not null:
                for (var i = 0; i < array.Count; i++)
                {
                    Items.Prune(array[i], $"{path}[{i}]", found, remove, depth + 1);
                }

                break;
        }
    }

    private void PruneObject(JsonObject obj, string path, List<string> found, bool remove, bool root, int depth)
    {
        List<string>? unknown = null;
        foreach (var (name, value) in obj)
        {
            var child = path.Length == 0 ? name : $"{path}.{name}";
            if (root && name is "apiVersion" or "kind")
            {
                continue;
            }

            if (root && name == "metadata")
            {
                if (value is JsonObject meta && ApiSchema.TryGetDefinition("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", out var objectMeta))
                {
                    found.AddRange(SchemaPruner.Prune(meta, objectMeta, remove).Select(f => $"{child}.{f}"));
                }

                continue;
            }

            if (Properties.TryGetValue(name, out var property))
            {
                property.Prune(value, child, found, remove, depth + 1);
            }
            else if (AdditionalProperties is not null)
            {
                AdditionalProperties.Prune(value, child, found, remove, depth + 1);
            }
            else if (!PreserveUnknownFields)
            {
                found.Add(child);
                (unknown ??= []).Add(name);
            }
        }

        if (remove && unknown is not null)
        {
            foreach (var name in unknown)
            {
                obj.Remove(name);
            }
        }
    }

    /// <summary>The schema as the API machinery's model (list and map types for apply; unknown shapes as Any).</summary>
    public TypeSchema ToTypeSchema(bool root = false)
    {
        if (IntOrString)
        {
            return new TypeSchema { Kind = SchemaKind.IntOrString };
        }

        switch (Type)
        {
            case "object" when Properties.Count > 0 || root || EmbeddedResource:
                var fields = new Dictionary<string, FieldSchema>(StringComparer.Ordinal);
                foreach (var (name, property) in Properties)
                {
                    fields[name] = new FieldSchema
                    {
                        Name = name,
                        Type = property.ToTypeSchema(),
                        ListType = property.ListType,
                        ListMapKeys = property.ListMapKeys,
                        MapType = property.MapType,
                    };
                }

                if (root || EmbeddedResource)
                {
                    fields["apiVersion"] = new FieldSchema { Name = "apiVersion", Type = new TypeSchema { Kind = SchemaKind.String } };
                    fields["kind"] = new FieldSchema { Name = "kind", Type = new TypeSchema { Kind = SchemaKind.String } };
                    if (ApiSchema.TryGetDefinition("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", out var meta))
                    {
                        fields["metadata"] = new FieldSchema { Name = "metadata", Type = meta };
                    }
                }

                // Unknown fields an object preserves have no schema: a property set of its own would prune them.
                return PreserveUnknownFields && !root ? new TypeSchema { Kind = SchemaKind.Any } : new TypeSchema { Kind = SchemaKind.Object, Properties = fields, Required = Required, MapType = MapType };
            case "object" when AdditionalProperties is not null && !AdditionalProperties.PreserveUnknownFields:
                return new TypeSchema { Kind = SchemaKind.Map, Items = AdditionalProperties.ToTypeSchema(), MapType = MapType };
            case "array":
                return new TypeSchema { Kind = SchemaKind.Array, Items = Items?.ToTypeSchema() ?? new TypeSchema { Kind = SchemaKind.Any }, MapType = ListType };
            case "string":
                return new TypeSchema { Kind = SchemaKind.String, Format = Format };
            case "integer":
                return new TypeSchema { Kind = SchemaKind.Integer, Format = Format };
            case "number":
                return new TypeSchema { Kind = SchemaKind.Number, Format = Format };
            case "boolean":
                return new TypeSchema { Kind = SchemaKind.Boolean };
            default:
                return new TypeSchema { Kind = SchemaKind.Any };
        }
    }

    private static bool Matches(string type, JsonNode value) => (type, value.GetValueKind()) switch
    {
        ("object", JsonValueKind.Object) => true,
        ("array", JsonValueKind.Array) => true,
        ("string", JsonValueKind.String) => true,
        ("boolean", JsonValueKind.True or JsonValueKind.False) => true,
        ("number", JsonValueKind.Number) => true,
        ("integer", JsonValueKind.Number) => IsInteger(value),
        _ => false,
    };

    private static bool IsInteger(JsonNode value)
    {
        var element = Element(value);
        return element.TryGetInt64(out _) || (element.TryGetDouble(out var d) && Math.Floor(d) == d && !element.GetRawText().Contains('.', StringComparison.Ordinal));
    }

    private static string TypeName(JsonNode value) => value.GetValueKind() switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Number => IsInteger(value) ? "integer" : "number",
        _ => "null",
    };

    /// <summary>A value as upstream's field errors print it: strings quoted, numbers and booleans bare.</summary>
    private static string Show(JsonNode? value) => value?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.String => $"\"{value.GetValue<string>()}\"",
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.ToJsonString(),
        _ => $"\"{TypeName(value)}\"",
    };

    private static string Show(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static bool IsBase64(string text)
    {
        Span<byte> buffer = text.Length <= 1024 ? stackalloc byte[text.Length] : new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out _);
    }

    private static JsonElement Element(JsonNode value) =>
        value is JsonValue v && v.TryGetValue<JsonElement>(out var element) ? element : JsonElement.Parse(value.ToJsonString());

    private static JsonNode? Value(JsonObject node, string name) => node[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v : null;

    private static JsonNode? Value(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v : null;

    private static double? Number(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? Element(v).GetDouble() : null;

    private static long? Long(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && Element(v).TryGetInt64(out var n) ? n : null;

    private static bool Bool(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.True;
}
