using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.Patching;

/// <summary>JSON Merge Patch (RFC 7386): objects merge recursively, null deletes, everything else replaces.</summary>
public static class JsonMergePatch
{
    /// <summary>Applies <paramref name="patch"/> (a JSON object) to a copy of <paramref name="document"/>.</summary>
    public static JsonNode? Apply(JsonNode? document, JsonNode? patch, PatchLimits? limits = null)
    {
        if (patch is not JsonObject)
        {
            throw StatusException.BadRequest("a merge patch must be a JSON object");
        }

        var result = Merge(JsonTree.Clone(document), patch);
        (limits ?? PatchLimits.Default).CheckResult(result);
        return result;
    }

    /// <summary>Merges into <paramref name="target"/> (owned by the caller, changed in place when an object).</summary>
    internal static JsonNode? Merge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return JsonTree.Clone(patch);
        }

        var result = target as JsonObject ?? [];
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(key);
                continue;
            }

            result.TryGetPropertyValue(key, out var existing);
            if (existing is not null)
            {
                result.Remove(key);
            }

            result[key] = Merge(existing, value);
        }

        return result;
    }
}
