using System.Text.Json;
using Kubesharp.ApiServer.Admission.Cel;
using Kubesharp.ApiServer.Admission.Matching;

namespace Kubesharp.ApiServer.Admission.Policies;

/// <summary>
/// A ValidatingAdmissionPolicy compiled once per change: what it matches, its match conditions, variables and
/// validations (expression, message, messageExpression, reason), its param kind and failure policy.
/// </summary>
internal sealed record ValidatingPolicy
{
    public required string Name { get; init; }

    public required bool FailOpen { get; init; }

    /// <summary>apiVersion and kind of the params objects, or null for a policy without params.</summary>
    public (string ApiVersion, string Kind)? ParamKind { get; init; }

    public required MatchResources Match { get; init; }

    public required MatchConditionSet Conditions { get; init; }

    public required IReadOnlyList<(string Name, CompiledExpression Expression)> Variables { get; init; }

    public required IReadOnlyList<PolicyValidation> Validations { get; init; }

    /// <summary>auditAnnotations: each key's valueExpression, recorded as POLICY/KEY in the request's audit event.</summary>
    public IReadOnlyList<(string Key, CompiledExpression ValueExpression)> AuditAnnotations { get; init; } = [];

    public static ValidatingPolicy Parse(JsonElement policy)
    {
        var name = policy.GetProperty("metadata").GetProperty("name").GetString()!;
        var spec = policy.TryGetProperty("spec", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        (string, string)? paramKind = null;
        if (spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("paramKind", out var pk) && pk.ValueKind == JsonValueKind.Object)
        {
            paramKind = (Text(pk, "apiVersion") ?? string.Empty, Text(pk, "kind") ?? string.Empty);
        }

        var environment = AdmissionExpressions.Policy;
        return new ValidatingPolicy
        {
            Name = name,
            FailOpen = Text(spec, "failurePolicy") == "Ignore",
            ParamKind = paramKind,
            Match = MatchResources.Parse(spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("matchConstraints", out var m) ? m : default, binding: false),
            Conditions = MatchConditionSet.Parse(spec, environment),
            Variables = Array(spec, "variables")
                .Select(v => (Text(v, "name") ?? string.Empty, CompiledExpression.Compile(environment, Text(v, "expression") ?? string.Empty)))
                .ToArray(),
            Validations = Array(spec, "validations")
                .Select(v => new PolicyValidation(
                    CompiledExpression.Compile(environment, Text(v, "expression") ?? string.Empty),
                    Text(v, "message"),
                    Text(v, "messageExpression") is { Length: > 0 } message ? CompiledExpression.Compile(environment, message) : null,
                    Text(v, "reason")))
                .ToArray(),
            AuditAnnotations = Array(spec, "auditAnnotations")
                .Select(a => (Text(a, "key") ?? string.Empty, CompiledExpression.Compile(environment, Text(a, "valueExpression") ?? string.Empty)))
                .ToArray(),
        };
    }

    internal static IEnumerable<JsonElement> Array(JsonElement parent, string field) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(field, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object)
            : [];

    internal static string? Text(JsonElement e, string field) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>One validation of a policy.</summary>
internal sealed record PolicyValidation(CompiledExpression Expression, string? Message, CompiledExpression? MessageExpression, string? Reason);
