using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>flowcontrol.apiserver.k8s.io FlowSchemas: upstream's defaults (precedence 1000) and the checks that keep a schema matchable.</summary>
internal sealed class FlowSchemaStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    private static readonly string[] SubjectKinds = ["Group", "ServiceAccount", "User"];
    private static readonly string[] Distinguishers = ["ByNamespace", "ByUser"];

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        ApplyDefaults(obj);
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        ApplyDefaults(updated);
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        if (obj["spec"] is not JsonObject spec)
        {
            causes.Add(Required("spec"));
            return;
        }

        if (JsonNumber.Int64(spec["matchingPrecedence"]) is { } precedence && precedence is < 1 or > 10000)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {precedence}: must be between 1 and 10000, inclusive", "spec.matchingPrecedence"));
        }

        if (string.IsNullOrEmpty((string?)spec["priorityLevelConfiguration"]?["name"]))
        {
            causes.Add(Required("spec.priorityLevelConfiguration.name", "must reference a priority level"));
        }

        if ((string?)spec["distinguisherMethod"]?["type"] is { } method && !Distinguishers.Contains(method))
        {
            causes.Add(Unsupported("spec.distinguisherMethod.type", method, Distinguishers));
        }

        var rules = spec["rules"] as JsonArray ?? [];
        for (var i = 0; i < rules.Count; i++)
        {
            var path = $"spec.rules[{i}]";
            var rule = rules[i] as JsonObject ?? [];
            var subjects = rule["subjects"] as JsonArray ?? [];
            if (subjects.Count == 0)
            {
                causes.Add(Required(path + ".subjects", "subjects must contain at least one value"));
            }

            for (var j = 0; j < subjects.Count; j++)
            {
                ValidateSubject(subjects[j] as JsonObject ?? [], $"{path}.subjects[{j}]", causes);
            }

            var resourceRules = rule["resourceRules"] as JsonArray ?? [];
            var nonResourceRules = rule["nonResourceRules"] as JsonArray ?? [];
            if (resourceRules.Count == 0 && nonResourceRules.Count == 0)
            {
                causes.Add(Required(path, "at least one of resourceRules and nonResourceRules has to be non-empty"));
            }

            for (var j = 0; j < resourceRules.Count; j++)
            {
                var r = resourceRules[j] as JsonObject ?? [];
                var at = $"{path}.resourceRules[{j}]";
                foreach (var field in new[] { "verbs", "apiGroups", "resources" })
                {
                    if ((r[field] as JsonArray)?.Count is null or 0)
                    {
                        causes.Add(Required($"{at}.{field}", $"{field} must contain at least one value"));
                    }
                }

                if ((r["namespaces"] as JsonArray)?.Count is null or 0 && r["clusterScope"]?.GetValueKind() != System.Text.Json.JsonValueKind.True)
                {
                    causes.Add(Required($"{at}.namespaces", "resource rules that are not cluster scoped must supply at least one namespace"));
                }
            }

            for (var j = 0; j < nonResourceRules.Count; j++)
            {
                var r = nonResourceRules[j] as JsonObject ?? [];
                var at = $"{path}.nonResourceRules[{j}]";
                foreach (var field in new[] { "verbs", "nonResourceURLs" })
                {
                    if ((r[field] as JsonArray)?.Count is null or 0)
                    {
                        causes.Add(Required($"{at}.{field}", $"{field} must contain at least one value"));
                    }
                }
            }
        }
    }

    private static void ValidateSubject(JsonObject subject, string path, List<StatusCause> causes)
    {
        var kind = (string?)subject["kind"] ?? string.Empty;
        if (!SubjectKinds.Contains(kind))
        {
            causes.Add(Unsupported(path + ".kind", kind, SubjectKinds));
            return;
        }

        var field = kind switch
        {
            "User" => "user",
            "Group" => "group",
            _ => "serviceAccount",
        };
        if (subject[field] is not JsonObject detail)
        {
            causes.Add(Required($"{path}.{field}", $"{field} is required when subject kind is '{kind}'"));
            return;
        }

        if (string.IsNullOrEmpty((string?)detail["name"]))
        {
            causes.Add(Required($"{path}.{field}.name"));
        }

        if (kind == "ServiceAccount" && string.IsNullOrEmpty((string?)detail["namespace"]))
        {
            causes.Add(Required($"{path}.{field}.namespace"));
        }
    }

    private static void ApplyDefaults(JsonObject obj)
    {
        if (obj["spec"] is JsonObject spec && (spec["matchingPrecedence"] is null || JsonNumber.Int64(spec["matchingPrecedence"]) == 0))
        {
            spec["matchingPrecedence"] = 1000;
        }
    }
}
