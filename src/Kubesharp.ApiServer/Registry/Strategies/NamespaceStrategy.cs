using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

internal sealed class NamespaceStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    public const string KubernetesFinalizer = "kubernetes";

    protected override NameRule NameRule => NameRule.Label;

    public override bool TracksGeneration => false;

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        var spec = Ensure(obj, "spec");
        if (spec["finalizers"] is not JsonArray finalizers || !finalizers.Any(f => (string?)f == KubernetesFinalizer))
        {
            spec["finalizers"] = new JsonArray(KubernetesFinalizer);
        }

        obj["status"] = new JsonObject { ["phase"] = "Active" };
        SetNameLabel(obj);
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        CopyField(old, updated, "spec");
        SetNameLabel(updated);
    }

    public override JsonObject PrepareForStatusUpdate(JsonObject updated, JsonObject old)
    {
        var result = base.PrepareForStatusUpdate(updated, old);
        return result;
    }

    private static void SetNameLabel(JsonObject obj)
    {
        var meta = Ensure(obj, "metadata");
        Ensure(meta, "labels")["kubernetes.io/metadata.name"] = (string?)meta["name"];
    }
}
