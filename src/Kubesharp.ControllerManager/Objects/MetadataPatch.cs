using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.Objects;

/// <summary>
/// JSON patches (RFC 6902) of object metadata guarded by uid and resourceVersion tests, so a change made
/// from a stale cache fails instead of overwriting someone else's.
/// </summary>
internal static class MetadataPatch
{
    public static string OwnerReferences(ObjectMeta meta, IReadOnlyList<OwnerReference> references)
    {
        if (references.Count == 0 && meta.OwnerReferences is { Count: > 0 })
        {
            // Upstream never shows an empty list (omitempty): the field goes away with its last element.
            return Guarded(meta, new JsonObject { ["op"] = "remove", ["path"] = "/metadata/ownerReferences" });
        }

        var value = new JsonArray(references.Select(r => JsonNode.Parse(KubernetesJson.Serialize(r))).ToArray());
        return Guarded(meta, new JsonObject { ["op"] = "add", ["path"] = "/metadata/ownerReferences", ["value"] = value });
    }

    public static string Finalizers(ObjectMeta meta, IReadOnlyList<string> finalizers)
    {
        if (finalizers.Count == 0 && meta.Finalizers is { Count: > 0 })
        {
            return Guarded(meta, new JsonObject { ["op"] = "remove", ["path"] = "/metadata/finalizers" });
        }

        var value = new JsonArray(finalizers.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray());
        return Guarded(meta, new JsonObject { ["op"] = "add", ["path"] = "/metadata/finalizers", ["value"] = value });
    }

    /// <summary>A merge patch setting one annotation.</summary>
    public static string Annotation(string key, string value) =>
        new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [key] = value } } }.ToJsonString();

    private static string Guarded(ObjectMeta meta, JsonObject operation)
    {
        var operations = new JsonArray
        {
            (JsonNode?)new JsonObject { ["op"] = "test", ["path"] = "/metadata/uid", ["value"] = meta.Uid },
            (JsonNode?)new JsonObject { ["op"] = "test", ["path"] = "/metadata/resourceVersion", ["value"] = meta.ResourceVersion },
            (JsonNode?)operation,
        };
        return operations.ToJsonString();
    }
}
