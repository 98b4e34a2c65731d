using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>Jobs: defaults and a generated selector on the job's uid, as upstream does.</summary>
internal sealed class JobStrategy(ApiResource resource) : ResourceStrategy(resource)
{
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
        var spec = Ensure(obj, "spec");
        DefaultSpec(spec);
        var manual = spec["manualSelector"] is JsonValue m && m.TryGetValue<bool>(out var b) && b;
        var uid = (string?)obj["metadata"]?["uid"];
        var template = Ensure(spec, "template");
        var templateMeta = Ensure(template, "metadata");
        if (!manual && uid is not null)
        {
            var labels = Ensure(templateMeta, "labels");
            labels["batch.kubernetes.io/controller-uid"] = uid;
            labels["batch.kubernetes.io/job-name"] = (string?)obj["metadata"]?["name"];
            labels["controller-uid"] = uid;
            labels["job-name"] = (string?)obj["metadata"]?["name"];
            spec["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["batch.kubernetes.io/controller-uid"] = uid } };
        }

        // A Job without labels of its own carries its pod template's, as upstream's defaulting on read gives it.
        if (obj["metadata"] is JsonObject meta && meta["labels"] is not JsonObject { Count: > 0 } && templateMeta["labels"] is JsonObject { Count: > 0 } templateLabels)
        {
            meta["labels"] = templateLabels.DeepClone();
        }

        if (template["spec"] is JsonObject podSpec)
        {
            PodSpecDefaults.ForTemplate(podSpec);
        }
    }

    /// <summary>
    /// Upstream's Job defaults: one pod at a time and one completion unless either is given (a work queue gives
    /// only parallelism), an unlimited backoff when failures are limited per index, and pods replaced only once
    /// Failed when a pod failure policy decides on failures.
    /// </summary>
    public static void DefaultSpec(JsonObject spec)
    {
        if (spec["completions"] is null && spec["parallelism"] is null)
        {
            spec["completions"] = 1;
            spec["parallelism"] = 1;
        }

        Default(spec, "parallelism", 1);
        Default(spec, "backoffLimit", spec["backoffLimitPerIndex"] is null ? 6 : int.MaxValue);
        Default(spec, "completionMode", "NonIndexed");
        Default(spec, "suspend", false);
        Default(spec, "manualSelector", false);
        Default(spec, "podReplacementPolicy", spec["podFailurePolicy"] is null ? "TerminatingOrFailed" : "Failed");
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        if (updated["spec"] is JsonObject spec && old["spec"] is JsonObject oldSpec)
        {
            spec["selector"] ??= oldSpec["selector"]?.DeepClone();
            if (spec["template"]?["spec"] is JsonObject podSpec)
            {
                PodSpecDefaults.ForTemplate(podSpec);
            }
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        if (obj["spec"]?["template"]?["spec"] is not JsonObject podSpec)
        {
            causes.Add(Required("spec.template.spec.containers"));
            return;
        }

        PodStrategy.ValidatePodSpec(podSpec, "spec.template.spec", causes);
        var policy = (string?)podSpec["restartPolicy"];
        if (policy is not ("Never" or "OnFailure"))
        {
            causes.Add(Unsupported("spec.template.spec.restartPolicy", policy ?? string.Empty, ["OnFailure", "Never"]));
        }

        ValidateSpec(obj["spec"]!.AsObject(), old?["spec"] as JsonObject, causes);
        if (old is not null && !JsonNode.DeepEquals(old["spec"]?["template"], obj["spec"]?["template"]) && !(obj["spec"]?["suspend"] is JsonValue s && s.TryGetValue<bool>(out var suspended) && suspended))
        {
            causes.Add(Invalid("spec.template", "{...}", "field is immutable"));
        }
    }

    private static void ValidateSpec(JsonObject spec, JsonObject? old, List<StatusCause> causes)
    {
        foreach (var field in (string[])["parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes"])
        {
            if (spec[field] is JsonValue v && v.TryGetValue<long>(out var n) && (n < 0 || (field == "activeDeadlineSeconds" && n == 0)))
            {
                causes.Add(Invalid("spec." + field, n.ToString(System.Globalization.CultureInfo.InvariantCulture), field == "activeDeadlineSeconds" ? "must be greater than 0" : "must be greater than or equal to 0"));
            }
        }

        var mode = (string?)spec["completionMode"];
        if (mode is not (null or "NonIndexed" or "Indexed"))
        {
            causes.Add(Unsupported("spec.completionMode", mode, ["NonIndexed", "Indexed"]));
        }

        if (mode == "Indexed" && spec["completions"] is null)
        {
            causes.Add(Required("spec.completions", "when completion mode is Indexed"));
        }

        if (mode != "Indexed" && spec["backoffLimitPerIndex"] is not null)
        {
            causes.Add(Invalid("spec.backoffLimitPerIndex", spec["backoffLimitPerIndex"]!.ToJsonString(), "requires indexed completion mode"));
        }

        if (spec["manualSelector"] is JsonValue m && m.TryGetValue<bool>(out var manual) && manual && spec["selector"] is null)
        {
            causes.Add(Required("spec.selector"));
        }

        // Completions change only on an Indexed Job, and then together with parallelism (elastic Indexed Jobs).
        if (old is not null && !JsonNode.DeepEquals(old["completions"], spec["completions"]))
        {
            if (mode != "Indexed")
            {
                causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {spec["completions"]?.ToJsonString() ?? "null"}: field is immutable", "spec.completions"));
            }
            else if (spec["completions"] is JsonValue c && !JsonNode.DeepEquals(c, spec["parallelism"]))
            {
                causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {c.ToJsonString()}: can only be modified in tandem with spec.parallelism", "spec.completions"));
            }
        }

        if (old is not null)
        {
            foreach (var field in (string[])["completionMode", "selector", "podFailurePolicy", "backoffLimitPerIndex"])
            {
                if (!JsonNode.DeepEquals(old[field], spec[field]))
                {
                    causes.Add(Invalid("spec." + field, spec[field]?.ToJsonString() ?? "null", "field is immutable"));
                }
            }
        }

        if (spec["podFailurePolicy"]?["rules"] is JsonArray rules)
        {
            var i = 0;
            foreach (var rule in rules)
            {
                var action = (string?)rule?["action"];
                if (action is not ("FailJob" or "FailIndex" or "Ignore" or "Count"))
                {
                    causes.Add(Unsupported($"spec.podFailurePolicy.rules[{i}].action", action ?? string.Empty, ["Count", "FailIndex", "FailJob", "Ignore"]));
                }

                if ((rule?["onExitCodes"] is null) == (rule?["onPodConditions"] is null))
                {
                    causes.Add(Invalid($"spec.podFailurePolicy.rules[{i}]", "{...}", "specifying one of onExitCodes and onPodConditions is required, but not both"));
                }

                i++;
            }
        }
    }
}
