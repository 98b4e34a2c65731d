using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Cel;
using Kubesharp.ApiServer.Admission.Cel;
using Kubesharp.ApiServer.Admission.Matching;
using Kubesharp.ApiServer.Authorization;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Policies;

/// <summary>
/// Upstream's ValidatingAdmissionPolicy plugin: every policy whose matchConstraints take the request is applied
/// through each binding that also takes it, once per params object; a failed validation denies, warns or is only
/// audited as the binding's validationActions say. The first denial fails the request with upstream's message and
/// the validation's reason (Invalid, 422, unless it names another).
/// </summary>
internal sealed class ValidatingAdmissionPolicyPlugin : IValidatingAdmissionPlugin
{
    private const int MaxMessageLength = 5 * 1024;

    private readonly PolicySource<ValidatingPolicy> _source;
    private readonly AdmissionMatcher _matcher;
    private readonly PolicyParams _params;
    private readonly Lazy<RequestAuthorizer> _authorizer;

    public ValidatingAdmissionPolicyPlugin(ResourceRegistry registry, AdmissionMatcher matcher, Lazy<RequestAuthorizer> authorizer)
    {
        _authorizer = authorizer;
        _source = new PolicySource<ValidatingPolicy>(
            registry,
            "validatingadmissionpolicies.admissionregistration.k8s.io",
            "validatingadmissionpolicybindings.admissionregistration.k8s.io",
            ValidatingPolicy.Parse,
            p => p.Name);
        _matcher = matcher;
        _params = new PolicyParams(registry);
    }

    public string Name => "ValidatingAdmissionPolicy";

    public bool Handles(AdmissionAttributes attributes) => !AdmissionMatcher.IsExempt(attributes) && _source.Current.Count > 0;

    public ValueTask ValidateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        Denial? denied = null;
        JsonArray? audited = null;
        JsonObject? request = null;
        JsonObject? namespaceObject = null;
        var namespaceRead = false;
        foreach (var (policy, bindings) in _source.Current)
        {
            if (!_matcher.Matches(policy.Match, attributes))
            {
                continue;
            }

            foreach (var binding in bindings)
            {
                if (!_matcher.Matches(binding.Match, attributes))
                {
                    continue;
                }

                IReadOnlyList<JsonObject?> parameters;
                try
                {
                    parameters = _params.Collect(policy.ParamKind, binding.ParamRef, attributes);
                }
                catch (PolicyConfigurationException e)
                {
                    if (!policy.FailOpen)
                    {
                        denied ??= new Denial(policy.Name, binding.Name, $"failed to configure binding: {e.Message}", null);
                    }

                    continue;
                }

                request ??= AdmissionRequest.Build(attributes, uid: null, withObjects: false);
                if (!namespaceRead)
                {
                    namespaceObject = _matcher.NamespaceObject(attributes);
                    namespaceRead = true;
                }

                foreach (var param in parameters)
                {
                    foreach (var failure in Evaluate(policy, attributes, request, param, namespaceObject, _authorizer.Value))
                    {
                        if (binding.Audit)
                        {
                            (audited ??= []).Add((JsonNode)new JsonObject
                            {
                                ["message"] = failure.Message,
                                ["policy"] = policy.Name,
                                ["binding"] = binding.Name,
                                ["expressionIndex"] = failure.ExpressionIndex,
                                ["validationActions"] = new JsonArray([.. binding.Actions.Select(a => (JsonNode)JsonValue.Create(a))]),
                            });
                        }

                        if (binding.Deny)
                        {
                            denied ??= new Denial(policy.Name, binding.Name, failure.Message, failure.Reason);
                        }

                        if (binding.Warn)
                        {
                            attributes.Context.Warn($"Validation failed for ValidatingAdmissionPolicy '{policy.Name}' with binding '{binding.Name}': {failure.Message}");
                        }
                    }
                }
            }
        }

        if (audited is not null)
        {
            attributes.Context.AddAuditAnnotation("validation.policy.admission.k8s.io/validation_failure", audited.ToJsonString());
        }

        if (denied is { } denial)
        {
            var message = $"ValidatingAdmissionPolicy '{denial.Policy}' with binding '{denial.Binding}' denied request: {denial.Message}";
            var reason = denial.Reason is { Length: > 0 } r ? r : "Invalid";
            var code = reason switch
            {
                "Unauthorized" => 401,
                "Forbidden" => 403,
                "RequestEntityTooLarge" => 413,
                _ => 422,
            };
            var resource = attributes.Resource;
            throw new StatusError(
                code,
                reason,
                $"{StatusError.Qualified(resource.Resource, resource.Group)} \"{attributes.Name}\" is forbidden: {message}",
                attributes.Name,
                resource.Group,
                resource.Resource,
                [new StatusCause(string.Empty, message, null)]);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The failed validations of one evaluation of a policy (expression errors count as failures unless the policy ignores them).</summary>
    private static List<Failure> Evaluate(ValidatingPolicy policy, AdmissionAttributes attributes, JsonObject request, JsonObject? param, JsonObject? namespaceObject, RequestAuthorizer authorizer)
    {
        var failures = new List<Failure>();
        var variables = new CelVariables(policy.Variables);
        var activation = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["object"] = CelValue.FromJson(attributes.Object),
            ["oldObject"] = CelValue.FromJson(attributes.OldObject),
            ["request"] = CelValue.FromJson(request),
            ["params"] = CelValue.FromJson(param),
            ["namespaceObject"] = CelValue.FromJson(namespaceObject),
            ["variables"] = variables,
            ["authorizer"] = new CelAuthorizerValue(new AdmissionAuthorizer(authorizer, attributes.User)),
        };
        var budget = AdmissionExpressions.RuntimeCostBudget;
        variables.Bind(activation, budget);

        if (!policy.Conditions.IsEmpty)
        {
            var matches = policy.Conditions.Matches(activation, ref budget, out var error);
            if (error is not null)
            {
                if (!policy.FailOpen)
                {
                    failures.Add(new Failure(error, null, 0));
                }

                return failures;
            }

            if (!matches)
            {
                return failures;
            }
        }

        for (var index = 0; index < policy.Validations.Count; index++)
        {
            var validation = policy.Validations[index];
            object? result;
            try
            {
                result = AdmissionExpressions.Evaluate(validation.Expression, activation, ref budget);
            }
            catch (AdmissionExpressionException e)
            {
                if (!policy.FailOpen)
                {
                    failures.Add(new Failure(e.Message, null, index));
                }

                continue;
            }

            if (result is true)
            {
                continue;
            }

            failures.Add(new Failure(Message(validation, activation, ref budget), validation.Reason ?? "Invalid", index));
        }

        // auditAnnotations are recorded whatever the bindings' actions; a null value records nothing, and an
        // expression that fails counts as a failed validation unless the policy ignores failures, as upstream.
        foreach (var (key, valueExpression) in policy.AuditAnnotations)
        {
            try
            {
                if (AdmissionExpressions.Evaluate(valueExpression, activation, ref budget) is string value && value.Length > 0)
                {
                    attributes.Context.AddAuditAnnotation($"{policy.Name}/{key}", value);
                }
            }
            catch (AdmissionExpressionException e)
            {
                if (!policy.FailOpen)
                {
                    failures.Add(new Failure($"valueExpression '{valueExpression.Text}' resulted in error: {e.Message}", null, 0));
                }
            }
        }

        return failures;
    }

    /// <summary>messageExpression's string when it gives a usable one, else message, else the failed expression.</summary>
    private static string Message(PolicyValidation validation, Dictionary<string, object?> activation, ref long budget)
    {
        if (validation.MessageExpression is { } messageExpression)
        {
            try
            {
                if (AdmissionExpressions.Evaluate(messageExpression, activation, ref budget) is string text &&
                    text.Trim() is { Length: > 0 and <= MaxMessageLength } trimmed && !trimmed.Contains('\n', StringComparison.Ordinal))
                {
                    return trimmed;
                }
            }
            catch (AdmissionExpressionException)
            {
                // Upstream falls back to the static message when messageExpression fails.
            }
        }

        if (validation.Message?.Trim() is { Length: > 0 } message)
        {
            return message;
        }

        return $"failed expression: {validation.Expression.Text.Trim()}";
    }

    private readonly record struct Failure(string Message, string? Reason, int ExpressionIndex);

    private readonly record struct Denial(string Policy, string Binding, string Message, string? Reason);
}
