using System.Text.Json;

namespace Kubesharp.ApiServer.Admission.Cel;

/// <summary>
/// The matchConditions of a webhook or policy: the request is handled when none is false. An error with no false
/// condition is reported (the failure policy decides), as upstream's matcher does.
/// </summary>
internal sealed class MatchConditionSet(IReadOnlyList<(string Name, CompiledExpression Expression)> conditions)
{
    public static MatchConditionSet None { get; } = new([]);

    public bool IsEmpty => conditions.Count == 0;

    public static MatchConditionSet Parse(JsonElement parent, ApiMachinery.Cel.CelEnvironment environment)
    {
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty("matchConditions", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return None;
        }

        var parsed = new List<(string, CompiledExpression)>();
        foreach (var condition in list.EnumerateArray())
        {
            if (condition.ValueKind == JsonValueKind.Object &&
                condition.TryGetProperty("expression", out var e) && e.ValueKind == JsonValueKind.String)
            {
                var name = condition.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : string.Empty;
                parsed.Add((name, CompiledExpression.Compile(environment, e.GetString()!)));
            }
        }

        return parsed.Count == 0 ? None : new MatchConditionSet(parsed);
    }

    /// <summary>Whether the request matches; <paramref name="error"/> is set when a condition failed and none was false.</summary>
    public bool Matches(IReadOnlyDictionary<string, object?> activation, ref long budget, out string? error)
    {
        error = null;
        List<string>? errors = null;
        foreach (var (_, expression) in conditions)
        {
            object? result;
            try
            {
                result = AdmissionExpressions.Evaluate(expression, activation, ref budget);
            }
            catch (AdmissionExpressionException e)
            {
                (errors ??= []).Add(e.Message);
                continue;
            }

            if (result is false)
            {
                return false;
            }

            if (result is not true)
            {
                (errors ??= []).Add($"expression '{expression.Text}' resulted in error: no such overload");
            }
        }

        if (errors is not null)
        {
            error = errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]";
        }

        return true;
    }
}
