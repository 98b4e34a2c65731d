using System.Text.Json;
using Kubesharp.ApiMachinery.Selectors;
using Kubesharp.ApiServer.Admission.Matching;

namespace Kubesharp.ApiServer.Admission.Policies;

/// <summary>
/// A ValidatingAdmissionPolicyBinding (or MutatingAdmissionPolicyBinding): the policy it binds, the resources it
/// narrows the policy to, where its params come from and, for validating policies, what a failed validation does.
/// </summary>
internal sealed record PolicyBinding
{
    public required string Name { get; init; }

    public required string PolicyName { get; init; }

    public required MatchResources Match { get; init; }

    public ParamReference? ParamRef { get; init; }

    public bool Deny { get; init; }

    public bool Warn { get; init; }

    public bool Audit { get; init; }

    /// <summary>The binding's validationActions as written, for the audit annotation of a failure.</summary>
    public IReadOnlyList<string> Actions { get; init; } = [];

    public static PolicyBinding Parse(JsonElement binding)
    {
        var spec = binding.TryGetProperty("spec", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        var actions = AdmissionRule.Strings(spec, "validationActions");
        ParamReference? paramRef = null;
        if (spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("paramRef", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            paramRef = new ParamReference(
                ValidatingPolicy.Text(p, "name"),
                ValidatingPolicy.Text(p, "namespace"),
                p.TryGetProperty("selector", out var selector) && selector.ValueKind == JsonValueKind.Object ? MatchResources.Selector(p, "selector") : null,
                ValidatingPolicy.Text(p, "parameterNotFoundAction") == "Allow");
        }

        return new PolicyBinding
        {
            Name = binding.GetProperty("metadata").GetProperty("name").GetString()!,
            PolicyName = ValidatingPolicy.Text(spec, "policyName") ?? string.Empty,
            Match = MatchResources.Parse(spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("matchResources", out var m) ? m : default, binding: true),
            ParamRef = paramRef,
            Deny = actions.Contains("Deny"),
            Warn = actions.Contains("Warn"),
            Audit = actions.Contains("Audit"),
            Actions = [.. actions],
        };
    }
}

/// <summary>A binding's paramRef: one object by name, or every object a selector picks; whether none found is allowed.</summary>
internal sealed record ParamReference(string? Name, string? Namespace, LabelSelector? Selector, bool AllowNotFound);
