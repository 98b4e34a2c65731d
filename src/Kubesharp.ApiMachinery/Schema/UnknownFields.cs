using System.Text.Json.Nodes;

namespace Kubesharp.ApiMachinery.Schema;

/// <summary>
/// Finds the fields of a JSON object that its schema does not declare, as paths in the form upstream
/// reports them (spec.template.spec.containers[0].imagePullPolice): the facts behind fieldValidation
/// Strict (reject) and Warn (Warning headers).
/// </summary>
public static class UnknownFields
{
    public static IReadOnlyList<string> Find(JsonNode? node, TypeSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var found = new List<string>();
        Walk(node, schema, "", found);
        return found;
    }

    private static void Walk(JsonNode? node, TypeSchema schema, string path, List<string> found)
    {
        switch (schema.Kind)
        {
            case SchemaKind.Object when node is JsonObject obj:
                foreach (var (name, value) in obj)
                {
                    var child = path.Length == 0 ? name : $"{path}.{name}";
                    if (schema.Properties.TryGetValue(name, out var field))
                    {
                        Walk(value, field.Type, child, found);
                    }
                    else
                    {
                        found.Add(child);
                    }
                }

                break;
            case SchemaKind.Array when node is JsonArray array && schema.Items is not null:
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(array[i], schema.Items, $"{path}[{i}]", found);
                }

                break;
            case SchemaKind.Map when node is JsonObject map && schema.Items is not null:
                foreach (var (key, value) in map)
                {
                    Walk(value, schema.Items, $"{path}[{key}]", found);
                }

                break;
        }
    }
}
