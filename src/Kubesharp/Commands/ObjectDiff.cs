using System.Text.Json.Nodes;

namespace Kubesharp.Commands;

/// <summary>
/// What changed between two revisions of an object, one line per field path: <c>+ path: value</c> added,
/// <c>- path: value</c> removed, <c>~ path: old -> new</c> changed. The resourceVersion and managedFields change with
/// every write and say nothing of their own, so they are left out.
/// </summary>
internal static class ObjectDiff
{
    public static List<string> Between(JsonNode? before, JsonNode? after)
    {
        var old = Flatten(before);
        var now = Flatten(after);
        var lines = new List<string>();
        foreach (var (path, value) in old)
        {
            if (!now.TryGetValue(path, out var newValue))
            {
                lines.Add($"- {path}: {value}");
            }
            else if (newValue != value)
            {
                lines.Add($"~ {path}: {value} -> {newValue}");
            }
        }

        lines.AddRange(now.Where(p => !old.ContainsKey(p.Key)).Select(p => $"+ {p.Key}: {p.Value}"));
        return lines;
    }

    private static Dictionary<string, string> Flatten(JsonNode? node)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        Walk(node, string.Empty, fields);
        fields.Remove("metadata.resourceVersion");
        foreach (var key in fields.Keys.Where(k => k.StartsWith("metadata.managedFields", StringComparison.Ordinal)).ToList())
        {
            fields.Remove(key);
        }

        return fields;
    }

    private static void Walk(JsonNode? node, string path, Dictionary<string, string> fields)
    {
        switch (node)
        {
            case JsonObject obj when obj.Count > 0:
                foreach (var (name, value) in obj)
                {
                    Walk(value, path.Length == 0 ? name : $"{path}.{name}", fields);
                }

                break;
            case JsonArray array when array.Count > 0:
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(array[i], $"{path}[{i}]", fields);
                }

                break;
            default:
                fields[path] = node?.ToJsonString() ?? "null";
                break;
        }
    }
}
