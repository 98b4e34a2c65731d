using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>Jobs: defaults and a generated selector on the job's uid, as upstream does.</summary>
internal sealed class JobStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        var spec = Ensure(obj, "spec");
        Default(spec, "parallelism", 1);
        Default(spec, "completions", 1);
        Default(spec, "backoffLimit", 6);
        Default(spec, "completionMode", "NonIndexed");
        Default(spec, "suspend", false);
        Default(spec, "podReplacementPolicy", "TerminatingOrFailed");
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

        if (template["spec"] is JsonObject podSpec)
        {
            PodStrategy.DefaultPodSpec(podSpec);
        }
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        if (updated["spec"] is JsonObject spec && old["spec"] is JsonObject oldSpec)
        {
            spec["selector"] ??= oldSpec["selector"]?.DeepClone();
            if (spec["template"]?["spec"] is JsonObject podSpec)
            {
                PodStrategy.DefaultPodSpec(podSpec);
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

        if (old is not null && !JsonNode.DeepEquals(old["spec"]?["template"], obj["spec"]?["template"]) && !(obj["spec"]?["suspend"] is JsonValue s && s.TryGetValue<bool>(out var suspended) && suspended))
        {
            causes.Add(Invalid("spec.template", "{...}", "field is immutable"));
        }
    }
}
