using System.Text.Json;
using Kubesharp.ApiServer.Admission.Cel;
using Kubesharp.ApiServer.Admission.Matching;

namespace Kubesharp.ApiServer.Admission.Policies;

/// <summary>
/// A MutatingAdmissionPolicy compiled once per change: what it matches, its match conditions and variables, and its
/// mutations in order, each an ApplyConfiguration or a JSONPatch expression.
/// </summary>
internal sealed record MutatingPolicy
{
    public required string Name { get; init; }

    public required bool FailOpen { get; init; }

    public (string ApiVersion, string Kind)? ParamKind { get; init; }

    public required MatchResources Match { get; init; }

    public required MatchConditionSet Conditions { get; init; }

    public required IReadOnlyList<(string Name, CompiledExpression Expression)> Variables { get; init; }

    public required IReadOnlyList<(bool JsonPatch, CompiledExpression Expression)> Mutations { get; init; }

    public static MutatingPolicy Parse(JsonElement policy)
    {
        var spec = policy.TryGetProperty("spec", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        (string, string)? paramKind = null;
        if (spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("paramKind", out var pk) && pk.ValueKind == JsonValueKind.Object)
        {
            paramKind = (ValidatingPolicy.Text(pk, "apiVersion") ?? string.Empty, ValidatingPolicy.Text(pk, "kind") ?? string.Empty);
        }

        var environment = AdmissionExpressions.Policy;
        return new MutatingPolicy
        {
            Name = policy.GetProperty("metadata").GetProperty("name").GetString()!,
            FailOpen = ValidatingPolicy.Text(spec, "failurePolicy") == "Ignore",
            ParamKind = paramKind,
            Match = MatchResources.Parse(spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("matchConstraints", out var m) ? m : default, binding: false),
            Conditions = MatchConditionSet.Parse(spec, environment),
            Variables = ValidatingPolicy.Array(spec, "variables")
                .Select(v => (ValidatingPolicy.Text(v, "name") ?? string.Empty, CompiledExpression.Compile(environment, ValidatingPolicy.Text(v, "expression") ?? string.Empty)))
                .ToArray(),
            Mutations = ValidatingPolicy.Array(spec, "mutations")
                .Select(mutation =>
                {
                    var jsonPatch = ValidatingPolicy.Text(mutation, "patchType") == "JSONPatch";
                    var holder = mutation.TryGetProperty(jsonPatch ? "jsonPatch" : "applyConfiguration", out var h) ? h : default;
                    return (jsonPatch, CompiledExpression.Compile(environment, ValidatingPolicy.Text(holder, "expression") ?? string.Empty));
                })
                .ToArray(),
        };
    }
}
