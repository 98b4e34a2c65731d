using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// CustomResourceDefinitions: names, scope and versions checked as upstream does, status.storedVersions kept, and a
/// deletion held by the cleanup finalizer until the definition's objects are gone.
/// </summary>
internal sealed class CustomResourceDefinitionStrategy(ApiResource resource, RegistryContext context) : ResourceStrategy(resource)
{
    public const string CleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        var status = new JsonObject
        {
            ["acceptedNames"] = new JsonObject { ["kind"] = string.Empty, ["plural"] = string.Empty },
            ["storedVersions"] = new JsonArray(),
        };
        obj["status"] = status;
        AddStoredVersion(obj);
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        AddStoredVersion(updated);
    }

    public override void PrepareForDelete(JsonObject obj, List<string> finalizers)
    {
        if (!finalizers.Contains(CleanupFinalizer))
        {
            finalizers.Add(CleanupFinalizer);
        }

        var status = Ensure(obj, "status");
        var conditions = status["conditions"] as JsonArray ?? [];
        status["conditions"] = conditions;
        if (!conditions.OfType<JsonObject>().Any(c => (string?)c["type"] == "Terminating"))
        {
            conditions.Add((JsonNode?)new JsonObject
            {
                ["type"] = "Terminating",
                ["status"] = "True",
                ["lastTransitionTime"] = context.TimeProvider.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
                ["reason"] = "InstanceDeletionInProgress",
                ["message"] = "CustomResource deletion is in progress",
            });
        }
    }

    /// <summary>The storage version is recorded in status.storedVersions once objects may be stored in it.</summary>
    private static void AddStoredVersion(JsonObject obj)
    {
        var storage = (obj["spec"]?["versions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(v => v["storage"] is JsonValue s && s.GetValueKind() == JsonValueKind.True);
        if ((string?)(storage?["name"] as JsonValue) is not { Length: > 0 } name)
        {
            return;
        }

        var status = Ensure(obj, "status");
        var stored = status["storedVersions"] as JsonArray ?? [];
        status["storedVersions"] = stored;
        if (!stored.Any(v => (string?)v == name))
        {
            stored.Add((JsonNode?)name);
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var spec = obj["spec"] as JsonObject;
        if (spec is null)
        {
            causes.Add(Required("spec"));
            return;
        }

        var group = Text(spec["group"]);
        var names = spec["names"] as JsonObject;
        var plural = Text(names?["plural"]);
        var kind = Text(names?["kind"]);
        var name = Text(obj["metadata"]?["name"]);
        if (group.Length == 0)
        {
            causes.Add(Required("spec.group"));
        }
        else if (!group.Contains('.', StringComparison.Ordinal))
        {
            causes.Add(Invalid("spec.group", group, "should be a domain with at least one dot"));
        }
        else if (CheckSubdomain(group) is { } groupProblem)
        {
            causes.Add(Invalid("spec.group", group, groupProblem));
        }

        if (plural.Length == 0)
        {
            causes.Add(Required("spec.names.plural"));
        }
        else if (CheckLabel(plural) is { } pluralProblem)
        {
            causes.Add(Invalid("spec.names.plural", plural, pluralProblem));
        }

        if (Text(names?["singular"]) is { Length: > 0 } singular && CheckLabel(singular) is { } singularProblem)
        {
            causes.Add(Invalid("spec.names.singular", singular, singularProblem));
        }

        if (kind.Length == 0)
        {
            causes.Add(Required("spec.names.kind"));
        }

        if (name.Length > 0 && plural.Length > 0 && group.Length > 0 && name != $"{plural}.{group}")
        {
            causes.Add(Invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"));
        }

        var scope = Text(spec["scope"]);
        if (scope.Length == 0)
        {
            causes.Add(Required("spec.scope"));
        }
        else if (scope is not ("Cluster" or "Namespaced"))
        {
            causes.Add(Unsupported("spec.scope", scope, ["Cluster", "Namespaced"]));
        }

        var versions = (spec["versions"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        if (versions.Count == 0)
        {
            causes.Add(Invalid("spec.versions", "null", "must have exactly one version marked as storage version"));
            return;
        }

        var storageCount = versions.Count(v => v["storage"] is JsonValue s && s.GetValueKind() == JsonValueKind.True);
        if (storageCount != 1)
        {
            causes.Add(Invalid("spec.versions", $"[]apiextensions.CustomResourceDefinitionVersion{{...}}", "must have exactly one version marked as storage version"));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < versions.Count; i++)
        {
            var version = Text(versions[i]["name"]);
            if (version.Length == 0)
            {
                causes.Add(Required($"spec.versions[{i}].name"));
            }
            else if (!seen.Add(version))
            {
                causes.Add(new StatusCause("FieldValueDuplicate", $"Duplicate value: \"{version}\"", $"spec.versions[{i}].name"));
            }
            else if (CheckLabel1035(version) is { } versionProblem)
            {
                causes.Add(Invalid($"spec.versions[{i}].name", version, versionProblem));
            }

            if (versions[i]["schema"]?["openAPIV3Schema"] is not JsonObject schema)
            {
                causes.Add(Required($"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required"));
            }
            else if (Text(schema["type"]) != "object")
            {
                causes.Add(Invalid($"spec.versions[{i}].schema.openAPIV3Schema.type", Text(schema["type"]), "must be object at the root"));
            }
        }

        if (!versions.Any(v => v["served"] is JsonValue s && s.GetValueKind() == JsonValueKind.True))
        {
            causes.Add(Invalid("spec.versions", "[]apiextensions.CustomResourceDefinitionVersion{...}", "must have at least one version marked as served"));
        }

        ValidateRules(versions, causes);

        var strategy = Text(spec["conversion"]?["strategy"]);
        if (strategy.Length > 0 && strategy is not ("None" or "Webhook"))
        {
            causes.Add(Unsupported("spec.conversion.strategy", strategy, ["None", "Webhook"]));
        }

        ValidateConversion(spec["conversion"] as JsonObject, strategy == "Webhook", causes);
    }

    /// <summary>
    /// A conversion webhook as upstream checks it (field paths of upstream's internal form, as its errors name them):
    /// exactly one of url or service, an https URL without user, query or fragment, a service with name, namespace,
    /// port and path, and conversionReviewVersions naming a version this server speaks.
    /// </summary>
    private static void ValidateConversion(JsonObject? conversion, bool webhook, List<StatusCause> causes)
    {
        const string Config = "spec.conversion.webhookClientConfig";
        const string ReviewVersions = "spec.conversion.conversionReviewVersions";
        var client = conversion?["webhook"]?["clientConfig"] as JsonObject;
        var versions = (conversion?["webhook"]?["conversionReviewVersions"] as JsonArray)?.Select(Text).ToList() ?? [];
        if (!webhook)
        {
            if (client is not null)
            {
                causes.Add(Forbidden(Config, "should not be set when strategy is not set to Webhook"));
            }

            if (versions.Count > 0)
            {
                causes.Add(Forbidden(ReviewVersions, "should not be set when strategy is not set to Webhook"));
            }

            return;
        }

        if (client is null)
        {
            causes.Add(Required(Config, "required when strategy is set to Webhook"));
        }
        else if ((client["url"] is null) == (client["service"] is null))
        {
            causes.Add(Required(Config, "exactly one of url or service is required"));
        }
        else if (client["url"] is { } urlNode)
        {
            var url = Text(urlNode);
            var problem = !Uri.TryCreate(url, UriKind.Absolute, out var parsed) ? "url must be a valid URL"
                : parsed.Scheme != "https" ? "'https' is the only allowed URL scheme"
                : parsed.Host.Length == 0 ? "host must be specified"
                : parsed.UserInfo.Length > 0 ? "user information is not permitted in the URL"
                : parsed.Fragment.Length > 0 ? "fragments are not permitted in the URL"
                : parsed.Query.Length > 0 ? "query parameters are not permitted in the URL"
                : null;
            if (problem is not null)
            {
                causes.Add(Invalid(Config + ".url", url, problem));
            }
        }
        else if (client["service"] is JsonObject service)
        {
            if (Text(service["name"]).Length == 0)
            {
                causes.Add(Required(Config + ".service.name", "service name is required"));
            }

            if (Text(service["namespace"]).Length == 0)
            {
                causes.Add(Required(Config + ".service.namespace", "service namespace is required"));
            }

            if (JsonNumber.Int64(service["port"]) is { } port and (< 1 or > 65535))
            {
                causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {port}: port is not valid: must be between 1 and 65535, inclusive", Config + ".service.port"));
            }

            if (Text(service["path"]) is { Length: > 0 } path && !path.StartsWith('/'))
            {
                causes.Add(Invalid(Config + ".service.path", path, "must start with a '/'"));
            }
        }

        if (versions.Count == 0)
        {
            causes.Add(Required(ReviewVersions));
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < versions.Count; i++)
        {
            if (!seen.Add(versions[i]))
            {
                causes.Add(Invalid($"{ReviewVersions}[{i}]", versions[i], "duplicate version"));
            }
        }

        if (!versions.Any(v => v is "v1" or "v1beta1"))
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: []string{{{string.Join(", ", versions.Select(v => $"\"{v}\""))}}}: must include at least one of v1, v1beta1", ReviewVersions));
        }
    }

    /// <summary>
    /// Checks that each schema is structural, then compiles and prices every x-kubernetes-validations rule. Versions sharing one schema are reported as upstream's
    /// internal form does, under spec.validation; otherwise under each version.
    /// </summary>
    private static void ValidateRules(List<JsonObject> versions, List<StatusCause> causes)
    {
        var schemas = versions.Select(v => v["schema"]?["openAPIV3Schema"] as JsonObject).ToList();
        if (schemas.Any(s => s is null))
        {
            return;
        }

        var shared = schemas.Skip(1).All(s => JsonNode.DeepEquals(s, schemas[0]));
        for (var i = 0; i < schemas.Count && (i == 0 || !shared); i++)
        {
            var path = shared ? "spec.validation.openAPIV3Schema" : $"spec.versions[{i}].schema.openAPIV3Schema";
            var before = causes.Count;
            CustomResources.StructuralSchemaCheck.Check(schemas[i]!, path, causes);
            if (causes.Count > before)
            {
                // Rules are compiled against a structural schema only.
                continue;
            }

            CustomResources.CustomResourceCelValidator.Build(CustomResources.CustomResourceSchema.Parse(schemas[i]!), path, causes);
        }
    }

    private static string Text(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : string.Empty;
}
