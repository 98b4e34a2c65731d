using System.Text.Json.Nodes;
using Kubesharp.Api;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Patching;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiServer.Http;

/// <summary>Turns a PATCH body and its content type into a function from the current object to the desired one.</summary>
internal static class Patches
{
    public static Func<JsonObject, JsonObject> For(string contentType, ApiResource resource, byte[] body) =>
        For(contentType, SchemaOf(resource), strategic: true, body);

    public static Func<JsonObject, JsonObject> For(string contentType, Registry.ResourceDefinition definition, byte[] body) =>
        For(contentType, definition.Schema, definition.SupportsStrategicMerge, body);

    private static Func<JsonObject, JsonObject> For(string contentType, TypeSchema? schema, bool strategic, byte[] body)
    {
        switch (contentType)
        {
            case MediaTypes.MergePatch:
            {
                var patch = RequestBody.Parse(body) as JsonObject ?? throw StatusError.BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}");
                return current => JsonMergePatch.Apply(current, patch) as JsonObject ?? throw StatusError.BadRequest("the patch removed the whole object");
            }

            case MediaTypes.StrategicMergePatch when strategic:
            {
                var patch = RequestBody.Parse(body) as JsonObject ?? throw StatusError.BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}");
                return current => StrategicMergePatch.Apply(current, patch, schema);
            }

            case MediaTypes.JsonPatch:
            {
                var patch = RequestBody.Parse(body) as JsonArray ?? throw StatusError.BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
                return current => JsonPatch.Apply(current, patch) as JsonObject ?? throw StatusError.BadRequest("the patch did not produce an object");
            }

            default:
                throw new StatusError(415, "UnsupportedMediaType", strategic
                    ? $"the body of the request was in an unknown format - accepted media types include: {MediaTypes.JsonPatch}, {MediaTypes.MergePatch}, {MediaTypes.StrategicMergePatch}, {MediaTypes.ApplyPatch}"
                    : $"the body of the request was in an unknown format - accepted media types include: {MediaTypes.JsonPatch}, {MediaTypes.MergePatch}, {MediaTypes.ApplyPatch}");
        }
    }

    public static TypeSchema? SchemaOf(ApiResource resource) =>
        resource.DefinitionName.Length > 0 && ApiSchema.TryGetDefinition(resource.DefinitionName, out var schema) ? schema : null;
}
