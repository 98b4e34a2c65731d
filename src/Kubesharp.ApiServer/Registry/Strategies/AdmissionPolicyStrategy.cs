using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Cel;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Admission.Cel;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// Validating- and MutatingAdmissionPolicies and their bindings: upstream's defaults (failurePolicy Fail,
/// matchPolicy Equivalent, empty selectors, rule scope "*", parameterNotFoundAction Deny) and the checks that let
/// a policy run, among them that every CEL expression compiles.
/// </summary>
internal sealed class AdmissionPolicyStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    private static readonly string[] ValidationActions = ["Audit", "Deny", "Warn"];

    private bool IsBinding => Resource.Resource.EndsWith("bindings", StringComparison.Ordinal);

    private bool IsValidating => Resource.Resource.StartsWith("validating", StringComparison.Ordinal);

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        Default(obj);
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        Default(updated);
    }

    private void Default(JsonObject obj)
    {
        if (obj["spec"] is not JsonObject spec)
        {
            return;
        }

        if (IsBinding)
        {
            DefaultMatch(spec["matchResources"] as JsonObject);
            if (spec["paramRef"] is JsonObject paramRef)
            {
                Default(paramRef, "parameterNotFoundAction", "Deny");
            }

            return;
        }

        Default(spec, "failurePolicy", "Fail");
        DefaultMatch(spec["matchConstraints"] as JsonObject);
        if (!IsValidating)
        {
            Default(spec, "reinvocationPolicy", "Never");
        }
    }

    private static void DefaultMatch(JsonObject? match)
    {
        if (match is null)
        {
            return;
        }

        Default(match, "namespaceSelector", new JsonObject());
        Default(match, "objectSelector", new JsonObject());
        Default(match, "matchPolicy", "Equivalent");
        foreach (var field in new[] { "resourceRules", "excludeResourceRules" })
        {
            foreach (var rule in (match[field] as JsonArray)?.OfType<JsonObject>() ?? [])
            {
                Default(rule, "scope", "*");
            }
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var spec = obj["spec"] as JsonObject ?? [];
        if (IsBinding)
        {
            ValidateBinding(spec, causes);
        }
        else
        {
            ValidatePolicy(spec, causes);
        }
    }

    private void ValidateBinding(JsonObject spec, List<StatusCause> causes)
    {
        if (string.IsNullOrEmpty((string?)spec["policyName"]))
        {
            causes.Add(Required("spec.policyName"));
        }

        if (IsValidating)
        {
            var actions = (spec["validationActions"] as JsonArray)?.Select(a => (string?)a ?? string.Empty).ToList() ?? [];
            if (actions.Count == 0)
            {
                causes.Add(Required("spec.validationActions", "at least one validation action is required"));
            }

            for (var i = 0; i < actions.Count; i++)
            {
                if (!ValidationActions.Contains(actions[i], StringComparer.Ordinal))
                {
                    causes.Add(Unsupported($"spec.validationActions[{i}]", actions[i], ValidationActions));
                }
                else if (actions.IndexOf(actions[i]) != i)
                {
                    causes.Add(new StatusCause("FieldValueDuplicate", $"Duplicate value: \"{actions[i]}\"", $"spec.validationActions[{i}]"));
                }
            }

            if (actions.Contains("Deny") && actions.Contains("Warn"))
            {
                causes.Add(new StatusCause(
                    "FieldValueInvalid",
                    $"Invalid value: [\"{string.Join("\",\"", actions)}\"]: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)",
                    "spec.validationActions"));
            }
        }

        if (spec["paramRef"] is JsonObject paramRef)
        {
            var hasName = !string.IsNullOrEmpty((string?)paramRef["name"]);
            var hasSelector = paramRef["selector"] is JsonObject;
            if (hasName && hasSelector)
            {
                causes.Add(Forbidden("spec.paramRef.name", "name and selector are mutually exclusive"));
            }
            else if (!hasName && !hasSelector)
            {
                causes.Add(Required("spec.paramRef", "one of name or selector must be specified"));
            }

            if ((string?)paramRef["parameterNotFoundAction"] is { } action && action is not ("Allow" or "Deny"))
            {
                causes.Add(Unsupported("spec.paramRef.parameterNotFoundAction", action, ["Allow", "Deny"]));
            }
        }
    }

    private void ValidatePolicy(JsonObject spec, List<StatusCause> causes)
    {
        var environment = AdmissionExpressions.Policy;
        if ((string?)spec["failurePolicy"] is { } failure && failure is not ("Fail" or "Ignore"))
        {
            causes.Add(Unsupported("spec.failurePolicy", failure, ["Fail", "Ignore"]));
        }

        if (spec["matchConstraints"] is not JsonObject match)
        {
            causes.Add(Required("spec.matchConstraints"));
        }
        else if ((match["resourceRules"] as JsonArray)?.Count is null or 0)
        {
            causes.Add(Required("spec.matchConstraints.resourceRules"));
        }

        if (spec["paramKind"] is JsonObject paramKind)
        {
            if (string.IsNullOrEmpty((string?)paramKind["kind"]))
            {
                causes.Add(Required("spec.paramKind.kind"));
            }

            if (string.IsNullOrEmpty((string?)paramKind["apiVersion"]))
            {
                causes.Add(Required("spec.paramKind.apiVersion"));
            }
        }

        CheckExpressions(spec["matchConditions"] as JsonArray, "spec.matchConditions", environment, causes, named: true);
        CheckExpressions(spec["variables"] as JsonArray, "spec.variables", environment, causes, named: true);
        if (IsValidating)
        {
            var validations = spec["validations"] as JsonArray;
            if ((validations?.Count ?? 0) == 0 && (spec["auditAnnotations"] as JsonArray)?.Count is null or 0)
            {
                causes.Add(Required("spec.validations", "validations or auditAnnotations must contain at least one item"));
            }

            CheckExpressions(validations, "spec.validations", environment, causes, named: false);
            for (var i = 0; i < (validations?.Count ?? 0); i++)
            {
                if ((string?)validations![i]?["reason"] is { } reason && reason is not ("Unauthorized" or "Forbidden" or "Invalid" or "RequestEntityTooLarge"))
                {
                    causes.Add(Unsupported($"spec.validations[{i}].reason", reason, ["Forbidden", "Invalid", "RequestEntityTooLarge", "Unauthorized"]));
                }

                if ((string?)validations[i]?["messageExpression"] is { Length: > 0 } messageExpression &&
                    environment.Compile(messageExpression).Error is { } error)
                {
                    causes.Add(Invalid($"spec.validations[{i}].messageExpression", messageExpression, $"compilation failed: {error}"));
                }
            }
        }
        else
        {
            var mutations = spec["mutations"] as JsonArray;
            if ((mutations?.Count ?? 0) == 0)
            {
                causes.Add(Required("spec.mutations", "mutations must contain at least one item"));
            }

            for (var i = 0; i < (mutations?.Count ?? 0); i++)
            {
                var patchType = (string?)mutations![i]?["patchType"];
                var (field, expression) = patchType switch
                {
                    "ApplyConfiguration" => ("applyConfiguration", (string?)mutations[i]?["applyConfiguration"]?["expression"]),
                    "JSONPatch" => ("jsonPatch", (string?)mutations[i]?["jsonPatch"]?["expression"]),
                    _ => (null, null),
                };
                if (field is null)
                {
                    causes.Add(Unsupported($"spec.mutations[{i}].patchType", patchType ?? string.Empty, ["ApplyConfiguration", "JSONPatch"]));
                }
                else if (string.IsNullOrEmpty(expression))
                {
                    causes.Add(Required($"spec.mutations[{i}].{field}.expression"));
                }
                else if (environment.Compile(expression).Error is { } error)
                {
                    causes.Add(Invalid($"spec.mutations[{i}].{field}.expression", expression, $"compilation failed: {error}"));
                }
            }
        }
    }

    private static void CheckExpressions(JsonArray? list, string path, CelEnvironment environment, List<StatusCause> causes, bool named)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (list?.Count ?? 0); i++)
        {
            var entry = list![i] as JsonObject;
            if (named)
            {
                var name = (string?)entry?["name"];
                if (string.IsNullOrEmpty(name))
                {
                    causes.Add(Required($"{path}[{i}].name"));
                }
                else if (!names.Add(name))
                {
                    causes.Add(new StatusCause("FieldValueDuplicate", $"Duplicate value: \"{name}\"", $"{path}[{i}].name"));
                }
            }

            var expression = (string?)entry?["expression"];
            if (string.IsNullOrWhiteSpace(expression))
            {
                causes.Add(Required($"{path}[{i}].expression"));
            }
            else if (environment.Compile(expression).Error is { } error)
            {
                causes.Add(Invalid($"{path}[{i}].expression", expression, $"compilation failed: {error}"));
            }
        }
    }
}
