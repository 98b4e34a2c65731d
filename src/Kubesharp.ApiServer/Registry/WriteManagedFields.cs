using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.ManagedFields;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiServer.Registry;

/// <summary>
/// <c>metadata.managedFields</c> on an update or patch (server-side apply computes its own). As upstream, a body
/// that leaves them out or sends an empty list keeps the stored ones, so clients unaware of the field (and caches
/// that dropped it) cannot strip them by accident; a list holding one empty entry resets them. An object that is
/// tracked records what an update changed under the writer's manager.
/// </summary>
internal static class WriteManagedFields
{
    /// <summary>Settles the managedFields of <paramref name="updatedMeta"/> against the stored <paramref name="oldMeta"/>.</summary>
    public static void Carry(JsonObject updatedMeta, JsonObject oldMeta)
    {
        switch (updatedMeta["managedFields"])
        {
            case JsonArray { Count: 1 } single when single[0] is JsonObject { Count: 0 }:
                updatedMeta.Remove("managedFields");
                break;
            case JsonArray { Count: > 0 }:
                break;
            default:
                if (oldMeta["managedFields"] is JsonArray { Count: > 0 } stored)
                {
                    updatedMeta["managedFields"] = stored.DeepClone();
                }
                else
                {
                    updatedMeta.Remove("managedFields");
                }

                break;
        }
    }

    /// <summary>
    /// Gives <paramref name="manager"/> the fields its update changed (others lose them) when the object is
    /// tracked; an untracked object stays untracked, as only server-side apply starts tracking here.
    /// </summary>
    public static JsonObject Record(JsonObject updated, JsonObject old, string manager, string apiVersion, TypeSchema? schema, TimeProvider time)
    {
        if (manager.Length == 0 || updated["metadata"]?["managedFields"] is not JsonArray { Count: > 0 })
        {
            return updated;
        }

        return new FieldManager(schema, time).Update(old, updated, manager, apiVersion);
    }
}
