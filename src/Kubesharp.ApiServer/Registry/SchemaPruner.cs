using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiServer.Registry;

/// <summary>
/// Finds the fields a schema does not declare and removes them, as decoding into the typed object does upstream
/// (fieldValidation Warn and Ignore drop them; Strict rejects the request).
/// </summary>
internal static class SchemaPruner
{
    public static List<string> Prune(JsonObject obj, TypeSchema schema, bool remove) => Prune(obj, null, schema, remove);

    /// <summary>
    /// As <see cref="Prune(JsonObject, TypeSchema, bool)"/>, looking for unknown fields in <paramref name="parsed"/>,
    /// the document <paramref name="obj"/> was read from, so that the node tree is expanded only to remove a field.
    /// </summary>
    public static List<string> Prune(JsonObject obj, JsonElement? parsed, TypeSchema schema, bool remove)
    {
        var found = new List<string>();
        if (parsed is not { } element)
        {
            Walk(obj, schema, [], found, remove, 0);
        }
        else
        {
            Find(element, schema, [], found, 0);
            if (remove && found.Count > 0)
            {
                Walk(obj, schema, [], [], remove, 0);
            }
        }

        return found;
    }

    private static void Find(JsonElement element, TypeSchema schema, List<Step> steps, List<string> found, int depth)
    {
        if (depth > 100)
        {
            return;
        }

        switch (schema.Kind)
        {
            case SchemaKind.Object when element.ValueKind == JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (schema.Properties.TryGetValue(property.Name, out var field))
                    {
                        steps.Add(new Step(property.Name, 0, Bracketed: false));
                        Find(property.Value, field.Type, steps, found, depth + 1);
                        steps.RemoveAt(steps.Count - 1);
                    }
                    else
                    {
                        found.Add(PathOf(steps, property.Name));
                    }
                }

                break;
            case SchemaKind.Array when element.ValueKind == JsonValueKind.Array && schema.Items is not null:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    steps.Add(new Step(null, i++, Bracketed: true));
                    Find(item, schema.Items, steps, found, depth + 1);
                    steps.RemoveAt(steps.Count - 1);
                }

                break;
            case SchemaKind.Map when element.ValueKind == JsonValueKind.Object && schema.Items is not null:
                foreach (var property in element.EnumerateObject())
                {
                    steps.Add(new Step(property.Name, 0, Bracketed: true));
                    Find(property.Value, schema.Items, steps, found, depth + 1);
                    steps.RemoveAt(steps.Count - 1);
                }

                break;
        }
    }

    // Every request body is walked and almost none has an unknown field, so the path to a value is kept as steps and
    // written out only for a field that is reported.
    private static void Walk(JsonNode? node, TypeSchema schema, List<Step> steps, List<string> found, bool remove, int depth)
    {
        if (depth > 100)
        {
            return;
        }

        switch (schema.Kind)
        {
            case SchemaKind.Object when node is JsonObject obj:
                List<string>? unknown = null;
                for (var i = 0; i < obj.Count; i++)
                {
                    var (name, value) = obj.GetAt(i);
                    if (schema.Properties.TryGetValue(name, out var field))
                    {
                        steps.Add(new Step(name, 0, Bracketed: false));
                        Walk(value, field.Type, steps, found, remove, depth + 1);
                        steps.RemoveAt(steps.Count - 1);
                    }
                    else
                    {
                        found.Add(PathOf(steps, name));
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
                    steps.Add(new Step(null, i, Bracketed: true));
                    Walk(array[i], schema.Items, steps, found, remove, depth + 1);
                    steps.RemoveAt(steps.Count - 1);
                }

                break;
            case SchemaKind.Map when node is JsonObject map && schema.Items is not null:
                for (var i = 0; i < map.Count; i++)
                {
                    var (key, value) = map.GetAt(i);
                    steps.Add(new Step(key, 0, Bracketed: true));
                    Walk(value, schema.Items, steps, found, remove, depth + 1);
                    steps.RemoveAt(steps.Count - 1);
                }

                break;
        }
    }

    /// <summary>spec.containers[0].name, metadata.labels[app]: a property's name after a dot, an index or key in brackets.</summary>
    private static string PathOf(List<Step> steps, string name)
    {
        var path = new StringBuilder();
        foreach (var step in steps)
        {
            if (step.Bracketed)
            {
                path.Append('[');
                if (step.Name is null)
                {
                    path.Append(step.Index.ToString(CultureInfo.InvariantCulture));
                }
                else
                {
                    path.Append(step.Name);
                }

                path.Append(']');
            }
            else
            {
                if (path.Length > 0)
                {
                    path.Append('.');
                }

                path.Append(step.Name);
            }
        }

        if (path.Length > 0)
        {
            path.Append('.');
        }

        return path.Append(name).ToString();
    }

    /// <summary>One step below the root: a property, an array index or a map key.</summary>
    private readonly record struct Step(string? Name, int Index, bool Bracketed);
}
