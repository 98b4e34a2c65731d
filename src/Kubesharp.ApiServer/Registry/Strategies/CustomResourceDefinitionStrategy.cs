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
            conditions.Add(new JsonObject
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
            stored.Add(name);
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
