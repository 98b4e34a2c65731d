using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>Deployments, ReplicaSets, StatefulSets, DaemonSets and ReplicationControllers: defaults and selector rules.</summary>
internal sealed class WorkloadStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    /// <summary>The DaemonSet annotation counting template changes (upstream's deprecated templateGeneration).</summary>
    public const string TemplateGenerationAnnotation = "deprecated.daemonset.template.generation";

    public override void ApplySchemeDefaults(JsonObject obj)
    {
        if (obj["spec"]?["template"]?["spec"] is JsonObject podSpec)
        {
            PodSpecDefaults.ForTemplate(podSpec);
        }
    }

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        ApplyDefaults(obj);
        if (Resource.Kind == "DaemonSet")
        {
            Ensure(Ensure(obj, "metadata"), "annotations")[TemplateGenerationAnnotation] = "1";
        }
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        ApplyDefaults(updated);
        if (Resource.Kind == "DaemonSet")
        {
            // The generation moves with the template only; clients cannot set it.
            var previous = (string?)old["metadata"]?["annotations"]?[TemplateGenerationAnnotation];
            var generation = long.TryParse(previous, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var g) ? g : 1;
            if (!JsonNode.DeepEquals(old["spec"]?["template"], updated["spec"]?["template"]))
            {
                generation++;
            }

            Ensure(Ensure(updated, "metadata"), "annotations")[TemplateGenerationAnnotation] = generation.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private void ApplyDefaults(JsonObject obj)
    {
        var spec = Ensure(obj, "spec");
        var kind = Resource.Kind;
        if (kind == "ReplicationController")
        {
            if (spec["selector"] is null && spec["template"]?["metadata"]?["labels"] is JsonObject templateLabels)
            {
                spec["selector"] = templateLabels.DeepClone();
            }

            // Like its selector, an unlabelled ReplicationController takes its template's labels.
            if (obj["metadata"] is JsonObject meta && meta["labels"] is not JsonObject { Count: > 0 } && spec["template"]?["metadata"]?["labels"] is JsonObject { Count: > 0 } labels)
            {
                meta["labels"] = labels.DeepClone();
            }
        }

        if (kind != "DaemonSet")
        {
            Default(spec, "replicas", 1);
        }

        if (kind is "Deployment" or "DaemonSet" or "StatefulSet")
        {
            Default(spec, "revisionHistoryLimit", 10);
        }

        switch (kind)
        {
            case "Deployment":
                Default(spec, "progressDeadlineSeconds", 600);
                if (spec["strategy"] is not JsonObject strategy)
                {
                    spec["strategy"] = strategy = [];
                }

                Default(strategy, "type", "RollingUpdate");
                if ((string?)strategy["type"] == "RollingUpdate")
                {
                    var rolling = Ensure(strategy, "rollingUpdate");
                    Default(rolling, "maxUnavailable", "25%");
                    Default(rolling, "maxSurge", "25%");
                }

                break;
            case "StatefulSet":
                Default(spec, "podManagementPolicy", "OrderedReady");
                var setStrategy = Ensure(spec, "updateStrategy");
                if (setStrategy["type"] is null)
                {
                    setStrategy["type"] = "RollingUpdate";
                    Ensure(setStrategy, "rollingUpdate");
                }

                if ((string?)setStrategy["type"] == "RollingUpdate" && setStrategy["rollingUpdate"] is JsonObject setRolling)
                {
                    Default(setRolling, "partition", 0);
                    Default(setRolling, "maxUnavailable", 1);
                }

                var retention = Ensure(spec, "persistentVolumeClaimRetentionPolicy");
                Default(retention, "whenDeleted", "Retain");
                Default(retention, "whenScaled", "Retain");
                break;
            case "DaemonSet":
                var daemonStrategy = Ensure(spec, "updateStrategy");
                Default(daemonStrategy, "type", "RollingUpdate");
                if ((string?)daemonStrategy["type"] == "RollingUpdate")
                {
                    var daemonRolling = Ensure(daemonStrategy, "rollingUpdate");
                    Default(daemonRolling, "maxUnavailable", 1);
                    Default(daemonRolling, "maxSurge", 0);
                }

                break;
        }

        if (spec["template"]?["spec"] is JsonObject podSpec)
        {
            PodSpecDefaults.ForTemplate(podSpec);
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var spec = obj["spec"] as JsonObject;
        if (JsonNumber.Int64(spec?["replicas"]) is { } replicas && replicas < 0)
        {
            causes.Add(Invalid("spec.replicas", replicas.ToString(System.Globalization.CultureInfo.InvariantCulture), "must be greater than or equal to 0"));
        }

        var selector = spec?["selector"];
        var templateLabels = spec?["template"]?["metadata"]?["labels"] as JsonObject;
        if (Resource.Kind != "ReplicationController")
        {
            if (selector is not JsonObject selectorObject || ((selectorObject["matchLabels"] as JsonObject)?.Count ?? 0) + ((selectorObject["matchExpressions"] as JsonArray)?.Count ?? 0) == 0)
            {
                causes.Add(Required("spec.selector"));
            }
            else if (selectorObject["matchLabels"] is JsonObject matchLabels && !matchLabels.All(kv => templateLabels is not null && JsonNode.DeepEquals(templateLabels[kv.Key], kv.Value)))
            {
                causes.Add(Invalid("spec.template.metadata.labels", LabelString(templateLabels), "`selector` does not match template `labels`"));
            }

            if (old is not null && !JsonNode.DeepEquals(old["spec"]?["selector"], selector))
            {
                causes.Add(Invalid("spec.selector", "v1.LabelSelector{...}", "field is immutable"));
            }
        }

        if (Resource.Kind == "StatefulSet" && old?["spec"] is JsonObject oldSpec && spec is not null && !SameApartFromMutable(oldSpec, spec))
        {
            causes.Add(Forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
        }

        if (spec?["template"]?["spec"] is JsonObject podSpec)
        {
            PodStrategy.ValidatePodSpec(podSpec, "spec.template.spec", causes);
            if ((string?)podSpec["restartPolicy"] is { } policy && policy != "Always")
            {
                causes.Add(Unsupported("spec.template.spec.restartPolicy", policy, ["Always"]));
            }
        }
        else
        {
            causes.Add(Required("spec.template.spec.containers"));
        }
    }

    /// <summary>A StatefulSet's identity (service, selector, claims, pod management) is fixed once created.</summary>
    private static bool SameApartFromMutable(JsonObject oldSpec, JsonObject spec)
    {
        string[] mutable = ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];
        var before = oldSpec.DeepClone().AsObject();
        var after = spec.DeepClone().AsObject();
        foreach (var field in mutable)
        {
            before.Remove(field);
            after.Remove(field);
        }

        return JsonNode.DeepEquals(before, after);
    }

    private static string LabelString(JsonObject? labels) =>
        labels is null ? "map[string]string(nil)" : "map[string]string{" + string.Join(", ", labels.Select(kv => $"\"{kv.Key}\":\"{(string?)kv.Value}\"")) + "}";
}
