using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.CustomResources;

/// <summary>
/// Whether an openAPIV3Schema is structural, as upstream requires of apiextensions.k8s.io/v1 definitions: every
/// specified field has a type (unless it is int-or-string or preserves unknown fields), arrays have items, an
/// object has properties or additionalProperties but not both, and the root's metadata names only name and
/// generateName. Causes carry upstream's field paths and messages.
/// </summary>
internal static class StructuralSchemaCheck
{
    private const int MaxDepth = 64;

    public static void Check(JsonObject schema, string path, List<StatusCause> causes) => Check(schema, path, root: true, items: false, causes, 0);

    private static void Check(JsonObject schema, string path, bool root, bool items, List<StatusCause> causes, int depth)
    {
        if (depth > MaxDepth)
        {
            return;
        }

        var type = Text(schema["type"]);
        var intOrString = IsTrue(schema["x-kubernetes-int-or-string"]);
        var embedded = IsTrue(schema["x-kubernetes-embedded-resource"]);
        var preserve = schema["x-kubernetes-preserve-unknown-fields"];
        if (preserve is JsonValue p && p.GetValueKind() == JsonValueKind.False)
        {
            causes.Add(new StatusCause("FieldValueInvalid", "Invalid value: false: must be true or undefined", $"{path}.x-kubernetes-preserve-unknown-fields"));
        }

        if (intOrString && type.Length > 0)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: \"{type}\": must be empty if x-kubernetes-int-or-string is true", $"{path}.type"));
        }
        else if (embedded && type != "object")
        {
            causes.Add(type.Length == 0
                ? new StatusCause("FieldValueRequired", "Required value: must be object if x-kubernetes-embedded-resource is true", $"{path}.type")
                : new StatusCause("FieldValueInvalid", $"Invalid value: \"{type}\": must be object if x-kubernetes-embedded-resource is true", $"{path}.type"));
        }
        else if (type.Length == 0 && !intOrString && !root)
        {
            causes.Add(new StatusCause("FieldValueRequired", items ? "Required value: must not be empty for specified array items" : "Required value: must not be empty for specified object fields", $"{path}.type"));
        }

        if (type == "array" && schema["items"] is null)
        {
            causes.Add(new StatusCause("FieldValueRequired", "Required value: must be specified", $"{path}.items"));
        }

        if (schema["properties"] is JsonObject && schema["additionalProperties"] is JsonObject or JsonValue)
        {
            causes.Add(new StatusCause("FieldValueForbidden", "Forbidden: additionalProperties and properties are mutual exclusive", $"{path}.additionalProperties"));
        }

        if (Text(schema["x-kubernetes-list-type"]) == "map" && (schema["x-kubernetes-list-map-keys"] as JsonArray)?.Count is null or 0)
        {
            causes.Add(new StatusCause("FieldValueRequired", "Required value: must not be empty if x-kubernetes-list-type is map", $"{path}.x-kubernetes-list-map-keys"));
        }

        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, child) in properties)
            {
                if (child is not JsonObject property)
                {
                    continue;
                }

                var childPath = $"{path}.properties[{name}]";
                if ((root || embedded) && name == "metadata")
                {
                    CheckMetadata(property, childPath, causes);
                    continue;
                }

                Check(property, childPath, root: false, items: false, causes, depth + 1);
            }
        }

        if (schema["items"] is JsonObject itemSchema)
        {
            Check(itemSchema, $"{path}.items", root: false, items: true, causes, depth + 1);
        }

        if (schema["additionalProperties"] is JsonObject additional)
        {
            Check(additional, $"{path}.additionalProperties", root: false, items: false, causes, depth + 1);
        }
    }

    private static void CheckMetadata(JsonObject metadata, string path, List<StatusCause> causes)
    {
        var type = Text(metadata["type"]);
        if (type.Length > 0 && type != "object")
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: \"{type}\": must be object", $"{path}.type"));
        }

        if (metadata["properties"] is JsonObject fields && fields.Any(f => f.Key is not ("name" or "generateName")))
        {
            causes.Add(new StatusCause("FieldValueForbidden", "Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified", path));
        }
    }

    private static bool IsTrue(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.True;

    private static string Text(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : string.Empty;
}
