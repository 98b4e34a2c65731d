using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>Nodes are registered with their status by the node agent, so status is kept on create.</summary>
internal sealed class NodeStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    public override bool TracksGeneration => false;

    public override void PrepareForCreate(JsonObject obj)
    {
        var meta = Ensure(obj, "metadata");
        Ensure(meta, "labels")["kubernetes.io/hostname"] ??= (string?)meta["name"];
    }
}
