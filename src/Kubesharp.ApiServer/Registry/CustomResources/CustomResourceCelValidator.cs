using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Cel;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.CustomResources;

/// <summary>
/// A custom resource version's <c>x-kubernetes-validations</c>, compiled once when the schema is read: every rule is
/// type-checked against the schema node it sits on (<c>self</c>, and <c>oldSelf</c> for transition rules) and priced.
/// Validation walks an object (and its old value on update, correlated by field, map key and list-map key) and
/// answers with upstream's field errors; the whole walk shares upstream's runtime cost budget.
/// </summary>
internal sealed class CustomResourceCelValidator
{
    /// <summary>Upstream's limits (apiserver celconfig): per expression, per validation of an object, and estimated at create.</summary>
    public const long PerCallLimit = 1_000_000;
    public const long RuntimeCostBudget = 10_000_000;
    public const long StaticEstimatedCostLimit = 10_000_000;
    public const long StaticEstimatedCrdCostLimit = 100_000_000;

    private const int MaxDepth = 64;

    private readonly Dictionary<CustomResourceSchema, CompiledRule[]> _rules = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<CustomResourceSchema, CelType> _types = new(ReferenceEqualityComparer.Instance);
    private readonly CustomResourceSchema _root;

    private CustomResourceCelValidator(CustomResourceSchema root) => _root = root;

    private sealed record CompiledRule(CustomResourceValidationRule Rule, CelProgram Program, CelProgram? MessageExpression, bool UsesOldSelf, string? FieldPath);

    /// <summary>Compiles a schema's rules; problems (for the CRD's own validation) are reported under <paramref name="schemaPath"/>.</summary>
    public static CustomResourceCelValidator? Build(CustomResourceSchema root, string schemaPath = "", List<StatusCause>? problems = null)
    {
        var validator = new CustomResourceCelValidator(root);
        var total = 0.0;
        validator.Compile(root, schemaPath, root: true, cardinality: 1, problems, ref total, 0);
        if (total > StaticEstimatedCrdCostLimit)
        {
            problems?.Add(new StatusCause("FieldValueForbidden", $"Forbidden: {CostMessage("x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema", total, StaticEstimatedCrdCostLimit)}", schemaPath));
        }

        return validator._rules.Count == 0 ? null : validator;
    }

    private void Compile(CustomResourceSchema schema, string path, bool root, double cardinality, List<StatusCause>? problems, ref double total, int depth)
    {
        if (depth > MaxDepth)
        {
            return;
        }

        if (schema.Validations.Count > 0)
        {
            var type = TypeOf(schema, root);
            var compiled = new List<CompiledRule>();
            for (var i = 0; i < schema.Validations.Count; i++)
            {
                var rule = schema.Validations[i];
                var rulePath = $"{path}.x-kubernetes-validations[{i}]".TrimStart('.');
                var oldType = rule.OptionalOldSelf == true ? CelType.Optional(type) : type;
                var env = new CelEnvironment(new Dictionary<string, CelType>(StringComparer.Ordinal) { ["self"] = type, ["oldSelf"] = oldType });
                if (rule.Rule.Trim().Length == 0)
                {
                    problems?.Add(new StatusCause("FieldValueRequired", "Required value: rule is not specified", $"{rulePath}.rule"));
                    continue;
                }

                var compilation = env.Compile(rule.Rule);
                var ok = true;
                if (compilation.Error is not null)
                {
                    problems?.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {rule.GoString()}: compilation failed: {compilation.Error}", $"{rulePath}.rule"));
                    ok = false;
                }
                else if (compilation.Program!.ResultType.Kind is not (CelTypeKind.Bool or CelTypeKind.Dyn))
                {
                    problems?.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {rule.GoString()}: compilation failed: cel expression must evaluate to a bool", $"{rulePath}.rule"));
                    ok = false;
                }
                else
                {
                    var cost = compilation.EstimatedCost * cardinality;
                    total += cost;
                    if (cost > StaticEstimatedCostLimit)
                    {
                        problems?.Add(new StatusCause("FieldValueForbidden", $"Forbidden: {CostMessage("estimated rule cost", cost, StaticEstimatedCostLimit)}", $"{rulePath}.rule"));
                        ok = false;
                    }
                }

                if (rule.Message.Contains('\n', StringComparison.Ordinal))
                {
                    problems?.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {CustomResourceValidationRule.Quote(rule.Message)}: message must not contain line breaks", $"{rulePath}.message"));
                }
                else if (rule.Message.Trim().Length == 0 && rule.Rule.Contains('\n', StringComparison.Ordinal) && rule.MessageExpression.Length == 0)
                {
                    problems?.Add(new StatusCause("FieldValueRequired", "Required value: message must be specified if rule contains line breaks", $"{rulePath}.message"));
                }

                if (rule.Reason is { } reason && reason is not ("FieldValueInvalid" or "FieldValueForbidden" or "FieldValueRequired" or "FieldValueDuplicate"))
                {
                    problems?.Add(new StatusCause("FieldValueNotSupported", $"Unsupported value: {CustomResourceValidationRule.Quote(reason)}: supported values: \"FieldValueDuplicate\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\"", $"{rulePath}.reason"));
                }

                string? fieldPath = null;
                if (rule.FieldPath.Length > 0)
                {
                    fieldPath = ResolveFieldPath(rule.FieldPath, schema, out var fieldProblem);
                    if (fieldPath is null)
                    {
                        problems?.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {CustomResourceValidationRule.Quote(rule.FieldPath)}: fieldPath must be a valid path: {fieldProblem}", $"{rulePath}.fieldPath"));
                        ok = false;
                    }
                }

                var usesOldSelf = compilation.References("oldSelf");
                if (rule.OptionalOldSelf == true && !usesOldSelf)
                {
                    problems?.Add(new StatusCause("FieldValueInvalid", "Invalid value: true: may not be set if oldSelf is not used in rule", $"{rulePath}.optionalOldSelf"));
                }

                CelProgram? message = null;
                if (rule.MessageExpression.Length > 0)
                {
                    var messageCompilation = env.Compile(rule.MessageExpression);
                    if (messageCompilation.Error is not null)
                    {
                        problems?.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {rule.GoString()}: messageExpression compilation failed: {messageCompilation.Error}", $"{rulePath}.messageExpression"));
                    }
                    else if (messageCompilation.Program!.ResultType.Kind is not (CelTypeKind.String or CelTypeKind.Dyn))
                    {
                        problems?.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {rule.GoString()}: messageExpression must evaluate to a string", $"{rulePath}.messageExpression"));
                    }
                    else if (messageCompilation.EstimatedCost * cardinality > StaticEstimatedCostLimit)
                    {
                        problems?.Add(new StatusCause("FieldValueForbidden", $"Forbidden: {CostMessage("estimated messageExpression cost", messageCompilation.EstimatedCost * cardinality, StaticEstimatedCostLimit)}", $"{rulePath}.messageExpression"));
                    }
                    else
                    {
                        message = messageCompilation.Program;
                    }
                }

                if (ok && compilation.Program is not null)
                {
                    compiled.Add(new CompiledRule(rule, compilation.Program, message, usesOldSelf, fieldPath));
                }
            }

            if (compiled.Count > 0)
            {
                _rules[schema] = [.. compiled];
            }
        }

        foreach (var (name, property) in schema.Properties)
        {
            Compile(property, $"{path}.properties[{name}]", root: false, cardinality, problems, ref total, depth + 1);
        }

        if (schema.Items is { } items)
        {
            Compile(items, $"{path}.items", root: false, cardinality * TypeOf(schema, root).MaxSize, problems, ref total, depth + 1);
        }

        if (schema.AdditionalProperties is { } additional)
        {
            Compile(additional, $"{path}.additionalProperties", root: false, cardinality * TypeOf(schema, root).MaxSize, problems, ref total, depth + 1);
        }
    }

    private static string CostMessage(string what, double cost, long limit)
    {
        var factor = cost / limit;
        var shown = factor > 100 ? "more than 100x" : factor.ToString("0.0", CultureInfo.InvariantCulture) + "x";
        return $"{what} exceeds budget by factor of {shown} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)";
    }

    /// <summary>The CEL type of a schema node, as upstream declares it; sizes from max* or what fits in a request.</summary>
    private CelType TypeOf(CustomResourceSchema schema, bool root = false, int depth = 0)
    {
        if (_types.TryGetValue(schema, out var known))
        {
            return known;
        }

        var type = depth > MaxDepth || schema.IntOrString ? CelType.Dyn : schema.Type switch
        {
            "object" when schema.Properties.Count > 0 || root || schema.EmbeddedResource => ObjectType(schema, root, depth),
            "object" when schema.AdditionalProperties is { PreserveUnknownFields: false } values =>
                CelType.Map(CelType.String, TypeOf(values, depth: depth + 1), schema.MaxProperties ?? (CelType.MaxRequestSize - 2) / (MinSize(values) + 4)),
            "object" when schema.PreserveUnknownFields || schema.AdditionalProperties is not null => CelType.Dyn,
            "object" => CelType.Object("object", new Dictionary<string, CelType>(), 0),
            "array" => CelType.List(schema.Items is null ? CelType.Dyn : TypeOf(schema.Items, depth: depth + 1), schema.MaxItems ?? (CelType.MaxRequestSize - 2) / (MinSize(schema.Items) + 1)),
            "string" => schema.Format switch
            {
                "date-time" => CelType.Timestamp,
                "duration" => CelType.Duration,
                "byte" => CelType.BytesOfLength(schema.MaxLength ?? CelType.MaxRequestSize),
                _ => CelType.StringOfLength(schema.MaxLength ?? CelType.MaxRequestSize - 2),
            },
            "integer" => CelType.Int,
            "number" => CelType.Double,
            "boolean" => CelType.Bool,
            _ => CelType.Dyn,
        };
        _types[schema] = type;
        return type;
    }

    private CelType ObjectType(CustomResourceSchema schema, bool root, int depth)
    {
        var fields = new Dictionary<string, CelType>(StringComparer.Ordinal);
        foreach (var (name, property) in schema.Properties)
        {
            if (CelValue.EscapeFieldName(name) is { } escaped)
            {
                fields[escaped] = TypeOf(property, depth: depth + 1);
            }
        }

        if (root || schema.EmbeddedResource)
        {
            // Of metadata, rules see only name and generateName (as upstream).
            fields.TryAdd("apiVersion", CelType.String);
            fields.TryAdd("kind", CelType.String);
            fields["metadata"] = CelType.Object("metadata", new Dictionary<string, CelType>
            {
                ["name"] = CelType.StringOfLength(253),
                ["generateName"] = CelType.StringOfLength(253),
            });
        }

        return CelType.Object("object", fields, schema.MaxProperties ?? CelType.MaxRequestSize);
    }

    /// <summary>The smallest JSON a value of the schema can take (upstream's estimate of how many fit in a request).</summary>
    private static long MinSize(CustomResourceSchema? schema) => schema?.Type switch
    {
        "string" => 2 + (schema.MinLength ?? 0),
        "boolean" => 4,
        "object" or "array" => 2,
        _ => 1,
    };

    /// <summary>Resolves a rule's fieldPath (<c>.a.b</c>, <c>.a['b.c']</c>) against its schema into the error's field path suffix.</summary>
    private static string? ResolveFieldPath(string fieldPath, CustomResourceSchema schema, out string? problem)
    {
        problem = null;
        var result = new System.Text.StringBuilder();
        var current = schema;
        var i = 0;
        while (i < fieldPath.Length)
        {
            string name;
            if (fieldPath[i] == '.')
            {
                var end = fieldPath.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? fieldPath.Length : end;
                name = fieldPath[(i + 1)..end];
                i = end;
            }
            else if (fieldPath[i] == '[' && i + 1 < fieldPath.Length && fieldPath[i + 1] == '\'')
            {
                var end = fieldPath.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    problem = "unexpected end of JSON path";
                    return null;
                }

                name = fieldPath[(i + 2)..end];
                i = end + 2;
            }
            else
            {
                problem = "expected [ or . but got " + fieldPath[i];
                return null;
            }

            if (current.Properties.TryGetValue(name, out var property))
            {
                result.Append('.').Append(name);
                current = property;
            }
            else if (current.AdditionalProperties is { } values)
            {
                result.Append('[').Append(name).Append(']');
                current = values;
            }
            else
            {
                problem = "does not refer to a valid field";
                return null;
            }
        }

        return result.ToString();
    }

    /// <summary>Runs every rule over a new object (and, on update, the old one), adding upstream's causes.</summary>
    public void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        var budget = RuntimeCostBudget;
        Walk(_root, obj, old, string.Empty, root: true, causes, ref budget, 0);
    }

    private bool Walk(CustomResourceSchema schema, JsonNode? value, JsonNode? old, string path, bool root, List<StatusCause> causes, ref long budget, int depth)
    {
        if (value is null || depth > MaxDepth || value.GetValueKind() == JsonValueKind.Null)
        {
            return true;
        }

        if (_rules.TryGetValue(schema, out var rules) && !Evaluate(schema, rules, value, old, path, root, causes, ref budget))
        {
            return false;
        }

        switch (value)
        {
            case JsonObject obj:
                var oldObj = old as JsonObject;
                foreach (var (name, child) in obj)
                {
                    if (schema.Properties.TryGetValue(name, out var property))
                    {
                        if (!Walk(property, child, oldObj?[name], Join(path, name), false, causes, ref budget, depth + 1))
                        {
                            return false;
                        }
                    }
                    else if (schema.AdditionalProperties is { } values && !(root && name is "apiVersion" or "kind" or "metadata"))
                    {
                        if (!Walk(values, child, oldObj?[name], $"{path}[{name}]", false, causes, ref budget, depth + 1))
                        {
                            return false;
                        }
                    }
                }

                break;
            case JsonArray array when schema.Items is { } items:
                var oldArray = old as JsonArray;
                for (var i = 0; i < array.Count; i++)
                {
                    if (!Walk(items, array[i], Correlate(schema, array[i], oldArray), $"{path}[{i}]", false, causes, ref budget, depth + 1))
                    {
                        return false;
                    }
                }

                break;
        }

        return true;
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    /// <summary>An element's old value: only list-type map (same keys) and set (same value) lists correlate, as upstream.</summary>
    private static JsonNode? Correlate(CustomResourceSchema list, JsonNode? item, JsonArray? old)
    {
        if (old is null || item is null)
        {
            return null;
        }

        if (list.ListType == "set")
        {
            return old.FirstOrDefault(o => JsonNode.DeepEquals(o, item));
        }

        if (list.ListType == "map" && list.ListMapKeys.Count > 0 && item is JsonObject entry)
        {
            return old.OfType<JsonObject>().FirstOrDefault(o => list.ListMapKeys.All(k => JsonNode.DeepEquals(o[k], entry[k])));
        }

        return null;
    }

    private bool Evaluate(CustomResourceSchema schema, CompiledRule[] rules, JsonNode value, JsonNode? old, string path, bool root, List<StatusCause> causes, ref long budget)
    {
        var type = TypeOf(schema, root);
        var typeName = schema.Type ?? string.Empty;
        var field = path.Length == 0 ? "<nil>" : path;
        var self = CelValue.FromJson(value, type);
        var oldSelf = old is null || old.GetValueKind() == JsonValueKind.Null ? null : CelValue.FromJson(old, type);
        foreach (var compiled in rules)
        {
            var optionalOld = compiled.Rule.OptionalOldSelf == true;
            if (compiled.UsesOldSelf && oldSelf is null && !optionalOld)
            {
                // Transition rules run only where an old value exists.
                continue;
            }

            if (budget <= 0)
            {
                causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: \"{typeName}\": validation failed due to running out of cost budget, no further validation rules will be run", field));
                return false;
            }

            var activation = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["self"] = self,
                ["oldSelf"] = optionalOld ? (oldSelf is null ? CelOptional.None : CelOptional.Of(oldSelf)) : oldSelf,
            };
            var limit = Math.Min(PerCallLimit, budget);
            object? result;
            long cost = 0;
            try
            {
                result = compiled.Program.Evaluate(activation, limit, out cost);
                budget -= cost;
            }
            catch (CelEvaluationException ex)
            {
                budget -= cost;
                if (ex.CostLimitExceeded)
                {
                    var detail = limit < PerCallLimit
                        ? "validation failed due to running out of cost budget, no further validation rules will be run"
                        : $"'{ex.Message}': no further validation rules will be run due to call cost exceeds limit for rule: {compiled.Rule.ErrorString}";
                    causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: \"{typeName}\": {detail}", field));
                    return false;
                }

                var message = ex.Message.StartsWith("no such overload", StringComparison.Ordinal)
                    ? $"'{ex.Message}': call arguments did not match a supported operator, function or macro signature for rule: {compiled.Rule.ErrorString}"
                    : $"{ex.Message} evaluating rule: {compiled.Rule.ErrorString}";
                causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: \"{typeName}\": {message}", field));
                continue;
            }

            if (result is true)
            {
                continue;
            }

            // Ratcheting, as upstream: a value left as it was may keep failing a rule that does not look at oldSelf.
            if (!compiled.UsesOldSelf && old is not null && JsonNode.DeepEquals(value, old))
            {
                continue;
            }

            var detailText = compiled.Rule.DefaultMessage;
            if (compiled.MessageExpression is { } messageExpression && budget > 0)
            {
                try
                {
                    var text = messageExpression.Evaluate(activation, Math.Min(PerCallLimit, budget), out var messageCost);
                    budget -= messageCost;
                    // A message that is empty or spans lines falls back to the rule's message, as upstream.
                    if (text is string { Length: > 0 } s && !s.Contains('\n', StringComparison.Ordinal) && s.Trim().Length > 0)
                    {
                        detailText = s;
                    }
                }
                catch (CelEvaluationException)
                {
                    // Upstream logs a failed messageExpression and keeps the rule's message.
                }
            }

            var errorField = compiled.FieldPath is { Length: > 0 } suffix ? (path.Length == 0 ? suffix.TrimStart('.') : path + suffix) : field;
            causes.Add(compiled.Rule.Reason switch
            {
                "FieldValueForbidden" => new StatusCause("FieldValueForbidden", $"Forbidden: {detailText}", errorField),
                "FieldValueRequired" => new StatusCause("FieldValueRequired", $"Required value: {detailText}", errorField),
                "FieldValueDuplicate" => new StatusCause("FieldValueDuplicate", $"Duplicate value: {Show(value)}", errorField),
                _ => new StatusCause("FieldValueInvalid", value is JsonObject or JsonArray ? $"Invalid value: {detailText}" : $"Invalid value: {Show(value)}: {detailText}", errorField),
            });
        }

        return true;
    }

    /// <summary>A scalar as upstream's field errors print it: strings quoted, numbers and booleans bare.</summary>
    private static string Show(JsonNode value) => value.GetValueKind() switch
    {
        JsonValueKind.String => CustomResourceValidationRule.Quote(value.GetValue<string>()),
        JsonValueKind.Object => "\"object\"",
        JsonValueKind.Array => "\"array\"",
        _ => value.ToJsonString(),
    };
}
