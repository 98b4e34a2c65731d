using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>Mutating- and ValidatingWebhookConfigurations: upstream's defaults and the checks a webhook needs to be callable.</summary>
internal sealed class WebhookConfigurationStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    private bool Mutating => Resource.Resource == "mutatingwebhookconfigurations";

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
        foreach (var webhook in (obj["webhooks"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            Default(webhook, "failurePolicy", "Fail");
            Default(webhook, "matchPolicy", "Equivalent");
            Default(webhook, "namespaceSelector", new JsonObject());
            Default(webhook, "objectSelector", new JsonObject());
            Default(webhook, "timeoutSeconds", 10);
            if (Mutating)
            {
                Default(webhook, "reinvocationPolicy", "Never");
            }

            foreach (var rule in (webhook["rules"] as JsonArray)?.OfType<JsonObject>() ?? [])
            {
                Default(rule, "scope", "*");
            }

            if (webhook["clientConfig"]?["service"] is JsonObject service)
            {
                Default(service, "port", 443);
            }
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var webhooks = (obj["webhooks"] as JsonArray)?.ToList() ?? [];
        for (var i = 0; i < webhooks.Count; i++)
        {
            var path = $"webhooks[{i}]";
            if (webhooks[i] is not JsonObject webhook)
            {
                continue;
            }

            var name = (string?)webhook["name"];
            if (string.IsNullOrEmpty(name))
            {
                causes.Add(Required($"{path}.name"));
            }
            else if (!names.Add(name))
            {
                causes.Add(new StatusCause("FieldValueDuplicate", $"Duplicate value: \"{name}\"", $"{path}.name"));
            }
            else if (name.Split('.').Length < 3 || CheckSubdomain(name) is not null)
            {
                causes.Add(Invalid($"{path}.name", name, "should be a domain with at least three segments separated by dots"));
            }

            if ((webhook["admissionReviewVersions"] as JsonArray)?.Count is null or 0)
            {
                causes.Add(Required($"{path}.admissionReviewVersions", "must specify one of v1, v1beta1"));
            }

            var sideEffects = (string?)webhook["sideEffects"];
            if (sideEffects is null)
            {
                causes.Add(Unsupported($"{path}.sideEffects", string.Empty, ["None", "NoneOnDryRun"]));
            }
            else if (sideEffects is not ("None" or "NoneOnDryRun"))
            {
                causes.Add(Unsupported($"{path}.sideEffects", sideEffects, ["None", "NoneOnDryRun"]));
            }

            if ((string?)webhook["failurePolicy"] is { } failure && failure is not ("Ignore" or "Fail"))
            {
                causes.Add(Unsupported($"{path}.failurePolicy", failure, ["Fail", "Ignore"]));
            }

            if ((string?)webhook["matchPolicy"] is { } match && match is not ("Exact" or "Equivalent"))
            {
                causes.Add(Unsupported($"{path}.matchPolicy", match, ["Equivalent", "Exact"]));
            }

            if (JsonNumber.Int64(webhook["timeoutSeconds"]) is { } timeout && timeout is < 1 or > 30)
            {
                causes.Add(Invalid($"{path}.timeoutSeconds", timeout.ToString(System.Globalization.CultureInfo.InvariantCulture), "the timeout value must be between 1 and 30 seconds"));
            }

            var conditions = (webhook["matchConditions"] as JsonArray)?.ToList() ?? [];
            var conditionNames = new HashSet<string>(StringComparer.Ordinal);
            for (var c = 0; c < conditions.Count; c++)
            {
                var conditionPath = $"{path}.matchConditions[{c}]";
                var conditionName = (string?)conditions[c]?["name"];
                if (string.IsNullOrEmpty(conditionName))
                {
                    causes.Add(Required($"{conditionPath}.name"));
                }
                else if (!conditionNames.Add(conditionName))
                {
                    causes.Add(new StatusCause("FieldValueDuplicate", $"Duplicate value: \"{conditionName}\"", $"{conditionPath}.name"));
                }

                var expression = (string?)conditions[c]?["expression"];
                if (string.IsNullOrWhiteSpace(expression))
                {
                    causes.Add(Required($"{conditionPath}.expression"));
                }
                else if (Admission.Cel.AdmissionExpressions.Webhook.Compile(expression).Error is { } error)
                {
                    causes.Add(Invalid($"{conditionPath}.expression", expression, $"compilation failed: {error}"));
                }
            }

            var client = webhook["clientConfig"] as JsonObject;
            var url = (string?)client?["url"];
            var service = client?["service"] as JsonObject;
            if (string.IsNullOrEmpty(url) == (service is null))
            {
                causes.Add(Required($"{path}.clientConfig", "exactly one of url or service is required"));
            }
            else if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "https"))
            {
                causes.Add(Invalid($"{path}.clientConfig.url", url, "'https' is the only allowed URL scheme"));
            }
            else if (service is not null && (string.IsNullOrEmpty((string?)service["name"]) || string.IsNullOrEmpty((string?)service["namespace"])))
            {
                causes.Add(Required($"{path}.clientConfig.service", "name and namespace are required"));
            }
        }
    }
}
