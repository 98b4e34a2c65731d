using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>PodTemplates: the pod template defaults and a pod spec's checks.</summary>
internal sealed class PodTemplateStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        DefaultTemplate(obj);
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        DefaultTemplate(updated);
    }

    public override void ApplySchemeDefaults(JsonObject obj) => DefaultTemplate(obj);

    private static void DefaultTemplate(JsonObject obj)
    {
        if (obj["template"]?["spec"] is JsonObject spec)
        {
            PodSpecDefaults.ForTemplate(spec);
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        if (obj["template"]?["spec"] is JsonObject spec)
        {
            PodStrategy.ValidatePodSpec(spec, "template.spec", causes);
        }
        else
        {
            causes.Add(Required("template.spec.containers"));
        }
    }
}
