using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Cel;
using Kubesharp.ApiMachinery.Patching;
using Kubesharp.ApiServer.Admission.Cel;
using Kubesharp.ApiServer.Admission.Matching;
using Kubesharp.ApiServer.Authorization;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Policies;

/// <summary>
/// Upstream's MutatingAdmissionPolicy plugin: every matching policy, through each matching binding and params object,
/// runs its mutations in order on the object as it stands. An ApplyConfiguration (<c>Object{...}</c>) is merged into
/// the object (maps field by field, lists by their merge keys from the kind's schema); a JSONPatch list is applied
/// as RFC 6902. A mutation that fails refuses the request unless the policy's failurePolicy is Ignore.
/// </summary>
internal sealed class MutatingAdmissionPolicyPlugin : IMutatingAdmissionPlugin, IWebhookPlugin
{
    private readonly ResourceRegistry _registry;
    private readonly PolicySource<MutatingPolicy> _source;
    private readonly AdmissionMatcher _matcher;
    private readonly PolicyParams _params;
    private readonly Lazy<RequestAuthorizer> _authorizer;

    public MutatingAdmissionPolicyPlugin(ResourceRegistry registry, AdmissionMatcher matcher, Lazy<RequestAuthorizer> authorizer)
    {
        _registry = registry;
        _source = new PolicySource<MutatingPolicy>(
            registry,
            "mutatingadmissionpolicies.admissionregistration.k8s.io",
            "mutatingadmissionpolicybindings.admissionregistration.k8s.io",
            MutatingPolicy.Parse,
            p => p.Name);
        _matcher = matcher;
        _params = new PolicyParams(registry);
        _authorizer = authorizer;
    }

    public string Name => "MutatingAdmissionPolicy";

    public bool Handles(AdmissionAttributes attributes) =>
        !AdmissionMatcher.IsExempt(attributes) && attributes.Operation is AdmissionOperation.Create or AdmissionOperation.Update && _source.Current.Count > 0;

    public ValueTask AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        JsonObject? namespaceObject = null;
        var namespaceRead = false;
        var changed = false;
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
                    Fail(policy, binding, attributes, $"failed to configure binding: {e.Message}");
                    continue;
                }

                if (!namespaceRead)
                {
                    namespaceObject = _matcher.NamespaceObject(attributes);
                    namespaceRead = true;
                }

                foreach (var param in parameters)
                {
                    try
                    {
                        changed |= Mutate(policy, attributes, param, namespaceObject);
                    }
                    catch (Exception e) when (e is AdmissionExpressionException or ApiMachinery.Errors.StatusException or StatusError)
                    {
                        Fail(policy, binding, attributes, e.Message);
                    }
                }
            }
        }

        if (changed)
        {
            // The built-in plugins see the mutated object once more, as upstream reinvokes them.
            attributes.ReinvokeBuiltins = true;
        }

        return ValueTask.CompletedTask;
    }

    private static void Fail(MutatingPolicy policy, PolicyBinding binding, AdmissionAttributes attributes, string message)
    {
        if (policy.FailOpen)
        {
            return;
        }

        _ = attributes;
        throw new StatusError(422, "Invalid", $"policy '{policy.Name}' with binding '{binding.Name}' denied request: {message}");
    }

    /// <summary>Runs one invocation's mutations; true when the object changed.</summary>
    private bool Mutate(MutatingPolicy policy, AdmissionAttributes attributes, JsonObject? param, JsonObject? namespaceObject)
    {
        var budget = AdmissionExpressions.RuntimeCostBudget;
        var variables = new CelVariables(policy.Variables);
        var activation = Activation(attributes, param, namespaceObject, variables);
        variables.Bind(activation, budget);
        if (!policy.Conditions.IsEmpty)
        {
            var matches = policy.Conditions.Matches(activation, ref budget, out var error);
            if (error is not null)
            {
                throw new AdmissionExpressionException(error);
            }

            if (!matches)
            {
                return false;
            }
        }

        var changed = false;
        foreach (var (jsonPatch, expression) in policy.Mutations)
        {
            if (attributes.Object is not { } current)
            {
                return changed;
            }

            // Each mutation sees the object as the ones before it left it.
            activation = Activation(attributes, param, namespaceObject, variables);
            variables.Bind(activation, budget);
            var result = AdmissionExpressions.Evaluate(expression, activation, ref budget);
            var patched = jsonPatch ? ApplyJsonPatch(current, result, expression) : ApplyConfiguration(current, result, attributes, expression);
            if (!JsonNode.DeepEquals(patched, current))
            {
                attributes.Object = patched;
                changed = true;
            }
        }

        return changed;
    }

    private Dictionary<string, object?> Activation(AdmissionAttributes attributes, JsonObject? param, JsonObject? namespaceObject, CelVariables variables) =>
        new(StringComparer.Ordinal)
        {
            ["object"] = CelValue.FromJson(attributes.Object),
            ["oldObject"] = CelValue.FromJson(attributes.OldObject),
            ["request"] = CelValue.FromJson(AdmissionRequest.Build(attributes, uid: null, withObjects: false)),
            ["params"] = CelValue.FromJson(param),
            ["namespaceObject"] = CelValue.FromJson(namespaceObject),
            ["variables"] = variables,
            ["authorizer"] = new CelAuthorizerValue(new AdmissionAuthorizer(_authorizer.Value, attributes.User)),
        };

    private static JsonObject ApplyJsonPatch(JsonObject current, object? result, CompiledExpression expression)
    {
        if (CelValue.ToJson(result) is not JsonArray operations)
        {
            throw new AdmissionExpressionException($"expression '{expression.Text}' must evaluate to a list of JSONPatch");
        }

        return JsonPatch.Apply(current.DeepClone(), operations) as JsonObject
            ?? throw new AdmissionExpressionException("JSON Patch: the patch did not produce an object");
    }

    private JsonObject ApplyConfiguration(JsonObject current, object? result, AdmissionAttributes attributes, CompiledExpression expression)
    {
        if (CelValue.ToJson(result) is not JsonObject configuration)
        {
            throw new AdmissionExpressionException($"expression '{expression.Text}' must evaluate to an Object");
        }

        var schema = _registry.DefinitionOf(attributes.Resource).Schema;
        return StrategicMergePatch.Apply(current.DeepClone(), configuration, schema);
    }
}
