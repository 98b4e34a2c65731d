using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.Kubelet.Csi;

/// <summary>
/// What the node tells the cluster about its CSI drivers (upstream's node info manager): one entry per driver in the
/// node's CSINode (node ID, topology keys, volume limit), the driver's node ID in the Node's
/// <see cref="NodeIdAnnotation"/> map and its topology segments as Node labels.
/// </summary>
internal sealed class CsiNodeWriter(KubernetesClient client, string nodeName)
{
    public const string NodeIdAnnotation = "csi.volume.kubernetes.io/nodeid";

    public async Task AddDriverAsync(string driver, string nodeId, IReadOnlyDictionary<string, string> topology, long maxVolumes, CancellationToken cancellationToken)
    {
        var node = await client.Resource<Node>().GetAsync(null, nodeName, cancellationToken);
        var ids = NodeIds(node);
        ids[driver] = nodeId;
        var labels = new JsonObject();
        foreach (var (key, value) in topology)
        {
            labels[key] = value;
        }

        await PatchNodeAsync(ids, labels, cancellationToken);
        var entry = new CSINodeDriver
        {
            Name = driver,
            NodeID = nodeId,
            TopologyKeys = [.. topology.Keys.Order(StringComparer.Ordinal)],
            Allocatable = maxVolumes > 0 ? new VolumeNodeResources { Count = (int)Math.Min(maxVolumes, int.MaxValue) } : null,
        };
        await UpdateCsiNodeAsync(node, drivers => [.. drivers.Where(d => d.Name != driver), entry], cancellationToken);
    }

    public async Task RemoveDriverAsync(string driver, CancellationToken cancellationToken)
    {
        var node = await client.Resource<Node>().GetAsync(null, nodeName, cancellationToken);
        var ids = NodeIds(node);
        if (ids.Remove(driver))
        {
            await PatchNodeAsync(ids, null, cancellationToken);
        }

        await UpdateCsiNodeAsync(node, drivers => [.. drivers.Where(d => d.Name != driver)], cancellationToken);
    }

    private static Dictionary<string, string> NodeIds(Node node)
    {
        if (node.Metadata?.Annotations?.GetValueOrDefault(NodeIdAnnotation) is not { Length: > 0 } json)
        {
            return new(StringComparer.Ordinal);
        }

        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            if (JsonNode.Parse(json) is JsonObject parsed)
            {
                foreach (var (driver, id) in parsed)
                {
                    if (id is JsonValue value && value.TryGetValue<string>(out var text))
                    {
                        ids[driver] = text;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // A mangled annotation is rewritten from what the node knows.
        }

        return ids;
    }

    private async Task PatchNodeAsync(Dictionary<string, string> ids, JsonObject? labels, CancellationToken cancellationToken)
    {
        var metadata = new JsonObject
        {
            ["annotations"] = new JsonObject
            {
                [NodeIdAnnotation] = ids.Count == 0 ? null : new JsonObject(ids.OrderBy(i => i.Key, StringComparer.Ordinal).Select(i => KeyValuePair.Create(i.Key, (JsonNode?)JsonValue.Create(i.Value)))).ToJsonString(),
            },
        };
        if (labels is { Count: > 0 })
        {
            metadata["labels"] = labels;
        }

        await client.Resource<Node>().PatchAsync(null, nodeName, PatchType.Merge, new JsonObject { ["metadata"] = metadata }.ToJsonString(), cancellationToken: cancellationToken);
    }

    /// <summary>Creates the CSINode (owned by the Node) or rewrites its drivers, again on a conflict.</summary>
    private async Task UpdateCsiNodeAsync(Node node, Func<List<CSINodeDriver>, List<CSINodeDriver>> change, CancellationToken cancellationToken)
    {
        var csiNodes = client.Resource<CSINode>();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                CSINode current;
                try
                {
                    current = await csiNodes.GetAsync(null, nodeName, cancellationToken);
                }
                catch (StatusException e) when (e.IsNotFound())
                {
                    await csiNodes.CreateAsync(
                        new CSINode
                        {
                            ApiVersion = CSINode.KubeApiVersion,
                            Kind = CSINode.KubeKind,
                            Metadata = new ObjectMeta
                            {
                                Name = nodeName,
                                OwnerReferences = [new OwnerReference { ApiVersion = "v1", Kind = "Node", Name = nodeName, Uid = node.Metadata!.Uid! }],
                            },
                            Spec = new CSINodeSpec { Drivers = change([]) },
                        },
                        cancellationToken: cancellationToken);
                    return;
                }

                current.Spec ??= new CSINodeSpec();
                current.Spec.Drivers = change(current.Spec.Drivers ?? []);
                await csiNodes.UpdateAsync(current, cancellationToken: cancellationToken);
                return;
            }
            catch (StatusException e) when (attempt < 5 && (e.IsConflict() || e.IsAlreadyExists()))
            {
            }
        }
    }
}
