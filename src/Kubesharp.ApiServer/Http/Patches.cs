using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.ApiServer.Http;

/// <summary>Turns a PATCH body and its content type into a function from the current object to the desired one.</summary>
internal static class Patches
{
    public static Func<JsonObject, JsonObject> For(string contentType, ApiResource resource, byte[] body)
    {
        switch (contentType)
        {
            case MediaTypes.MergePatch:
            {
                var patch = RequestBody.Parse(body) as JsonObject ?? throw StatusError.BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}");
                return current => (JsonObject)MergePatch(current, patch)!;
            }

            case MediaTypes.StrategicMergePatch:
            {
                var patch = RequestBody.Parse(body) as JsonObject ?? throw StatusError.BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}");
                return current => (JsonObject)MergePatch(current, StripDirectives(patch))!;
            }

            case MediaTypes.JsonPatch or MediaTypes.ApplyPatch:
                throw new StatusError(415, "UnsupportedMediaType", $"the server does not support patch type {contentType} yet");
            default:
                throw new StatusError(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: {MediaTypes.JsonPatch}, {MediaTypes.MergePatch}, {MediaTypes.StrategicMergePatch}, {MediaTypes.ApplyPatch}");
        }
    }

    /// <summary>RFC 7386 JSON merge patch.</summary>
    public static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject targetObject ? targetObject.DeepClone().AsObject() : [];
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = MergePatch(result[key], value);
            }
        }

        return result;
    }

    private static JsonObject StripDirectives(JsonObject patch)
    {
        var result = new JsonObject();
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith('$'))
            {
                continue;
            }

            result[key] = value is JsonObject nested ? StripDirectives(nested) : value?.DeepClone();
        }

        return result;
    }
}
