using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Kubesharp.Api;

namespace Kubesharp.ControllerManager.Objects;

/// <summary>
/// Deep copies of API objects. Objects from caches are shared and read-only, so a controller copies
/// before it changes anything.
/// </summary>
internal static class ObjectCopy
{
    public static T Clone<T>(T value)
        where T : class
    {
        var info = (JsonTypeInfo<T>)KubernetesJsonContext.Default.GetTypeInfo(typeof(T))!;
        return JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(value, info), info)!;
    }

    /// <summary>
    /// Structural equality through the canonical JSON form, which for a workload status is the shape the API
    /// stores (a computed 0 equals a counter the API leaves out).
    /// </summary>
    public static bool SemanticEquals<T>(T? left, T? right)
        where T : class
    {
        if (left is null || right is null)
        {
            return left is null && right is null;
        }

        var info = (JsonTypeInfo<T>)KubernetesJsonContext.Default.GetTypeInfo(typeof(T))!;
        return JsonNode.DeepEquals(Canonical(left, info), Canonical(right, info));
    }

    private static JsonNode? Canonical<T>(T value, JsonTypeInfo<T> info)
    {
        var node = JsonSerializer.SerializeToNode(value, info);
        if (node is JsonObject status && StatusShape.For(typeof(T)) is { } shape)
        {
            shape.Apply(status);
        }

        return WithoutEmpties(node);
    }

    /// <summary>Empty and absent lists and maps mean the same to the API, so comparisons drop them.</summary>
    private static JsonNode? WithoutEmpties(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    var cleaned = WithoutEmpties(value);
                    if (cleaned is null || cleaned is JsonObject { Count: 0 } || cleaned is JsonArray { Count: 0 })
                    {
                        obj.Remove(key);
                    }
                }

                return obj;
            case JsonArray array:
                foreach (var item in array)
                {
                    WithoutEmpties(item);
                }

                return array;
            default:
                return node;
        }
    }
}
