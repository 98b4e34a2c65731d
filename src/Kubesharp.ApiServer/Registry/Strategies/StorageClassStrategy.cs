using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>StorageClasses: upstream's defaults (reclaim Delete, binding Immediate), a required provisioner, and the fields that never change.</summary>
internal sealed class StorageClassStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        Default(obj, "reclaimPolicy", "Delete");
        Default(obj, "volumeBindingMode", "Immediate");
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        Default(updated, "reclaimPolicy", "Delete");
        Default(updated, "volumeBindingMode", "Immediate");
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        if (string.IsNullOrEmpty((string?)obj["provisioner"]))
        {
            causes.Add(Required("provisioner"));
        }

        if ((string?)obj["reclaimPolicy"] is { } policy && policy is not ("Delete" or "Retain"))
        {
            causes.Add(Unsupported("reclaimPolicy", policy, ["Delete", "Retain"]));
        }

        if ((string?)obj["volumeBindingMode"] is { } mode && mode is not ("Immediate" or "WaitForFirstConsumer"))
        {
            causes.Add(Unsupported("volumeBindingMode", mode, ["Immediate", "WaitForFirstConsumer"]));
        }

        if (old is null)
        {
            return;
        }

        if (!JsonNode.DeepEquals(obj["parameters"], old["parameters"]))
        {
            causes.Add(Forbidden("parameters", "updates to parameters are forbidden."));
        }

        if (!JsonNode.DeepEquals(obj["provisioner"], old["provisioner"]))
        {
            causes.Add(Forbidden("provisioner", "updates to provisioner are forbidden."));
        }

        if (!JsonNode.DeepEquals(obj["reclaimPolicy"], old["reclaimPolicy"]))
        {
            causes.Add(Forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."));
        }

        if (!JsonNode.DeepEquals(obj["volumeBindingMode"], old["volumeBindingMode"]))
        {
            causes.Add(Invalid("volumeBindingMode", (string?)obj["volumeBindingMode"] ?? string.Empty, "field is immutable"));
        }
    }
}
