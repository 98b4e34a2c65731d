using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiServer.Registry;

/// <summary>
/// Finds the fields a schema does not declare and removes them, as decoding into the typed object does upstream
/// (fieldValidation Warn and Ignore drop them; Strict rejects the request).
/// </summary>
internal static class SchemaPruner
{
    public static List<string> Prune(JsonObject obj, TypeSchema schema, bool remove)
    {
        var found = new List<string>();
        Walk(obj, schema, string.Empty, found, remove, 0);
        return found;
    }

    private static void Walk(JsonNode? node, TypeSchema schema, string path, List<string> found, bool remove, int depth)
    {
        if (depth > 100)
        {
            return;
        }

        switch (schema.Kind)
        {
            case SchemaKind.Object when node is JsonObject obj:
                List<string>? unknown = null;
                foreach (var (name, value) in obj)
                {
                    var child = path.Length == 0 ? name : $"{path}.{name}";
                    if (schema.Properties.TryGetValue(name, out var field))
                    {
                        Walk(value, field.Type, child, found, remove, depth + 1);
                    }
                    else
                    {
                        found.Add(child);
                        (unknown ??= []).Add(name);
                    }
                }

                if (remove && unknown is not null)
                {
                    foreach (var name in unknown)
                    {
                        obj.Remove(name);
                    }
                }

                break;
            case SchemaKind.Array when node is JsonArray array && schema.Items is not null:
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(array[i], schema.Items, $"{path}[{i}]", found, remove, depth + 1);
                }

                break;
            case SchemaKind.Map when node is JsonObject map && schema.Items is not null:
                foreach (var (key, value) in map)
                {
                    Walk(value, schema.Items, $"{path}[{key}]", found, remove, depth + 1);
                }

                break;
        }
    }
}
