using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.Patching;

/// <summary>
/// Bounds on what a patch may produce, so a small request cannot make the server build a huge object:
/// JSON patch copies are priced before they are made, and every patch result is measured (stopping as soon as it is
/// over the limit) before it goes further.
/// </summary>
public sealed record PatchLimits
{
    /// <summary>Upstream's default: the request body limit, 3 MiB.</summary>
    public const long DefaultMaxBytes = 3 * 1024 * 1024;

    public static PatchLimits Default { get; } = new();

    /// <summary>Most bytes all copy operations of one JSON patch may add together (upstream's accumulated copy size limit).</summary>
    public long MaxCopyBytes { get; init; } = DefaultMaxBytes;

    /// <summary>Largest object (as JSON) a patch may produce.</summary>
    public long MaxResultBytes { get; init; } = DefaultMaxBytes;

    /// <summary>Refuses a patch result larger than <see cref="MaxResultBytes"/> with 413 RequestEntityTooLarge.</summary>
    public void CheckResult(JsonNode? result)
    {
        if (JsonSize.Exceeds(result, MaxResultBytes))
        {
            throw StatusException.RequestEntityTooLarge(string.Create(CultureInfo.InvariantCulture, $"the patched object is larger than {MaxResultBytes} bytes"));
        }
    }
}

/// <summary>The size of a JSON tree as compact UTF-8 text, measured only as far as a budget.</summary>
public static class JsonSize
{
    /// <summary>The size in bytes, or a number above <paramref name="budget"/> as soon as it is certain to exceed it.</summary>
    public static long Measure(JsonNode? node, long budget)
    {
        long total = 0;
        Walk(node, ref total, budget, 0);
        return total;
    }

    public static bool Exceeds(JsonNode? node, long budget) => Measure(node, budget) > budget;

    private static void Walk(JsonNode? node, ref long total, long budget, int depth)
    {
        if (total > budget)
        {
            return;
        }

        switch (node)
        {
            case null:
                total += 4;
                return;
            case JsonObject obj:
                // Braces, and per property its quotes, colon and separating comma (one fewer than properties).
                total += 1 + (obj.Count == 0 ? 1 : 0);
                for (var i = 0; i < obj.Count; i++)
                {
                    var (key, value) = obj.GetAt(i);
                    total += Encoding.UTF8.GetByteCount(key) + 4;
                    Walk(value, ref total, budget, depth + 1);
                    if (total > budget)
                    {
                        return;
                    }
                }

                return;
            case JsonArray array:
                total += 1 + (array.Count == 0 ? 1 : 0);
                for (var i = 0; i < array.Count; i++)
                {
                    total += 1;
                    Walk(array[i], ref total, budget, depth + 1);
                    if (total > budget)
                    {
                        return;
                    }
                }

                return;
            default:
                total += node.GetValueKind() switch
                {
                    JsonValueKind.String => Encoding.UTF8.GetByteCount(node.GetValue<string>()) + 2,
                    JsonValueKind.True => 4,
                    JsonValueKind.False => 5,
                    // A parsed number is written back as it was read; measuring it needs no text of its own.
                    JsonValueKind.Number when node is JsonValue value && value.TryGetValue<JsonElement>(out var element) => JsonMarshal.GetRawUtf8Value(element).Length,
                    _ => node.ToJsonString().Length,
                };
                return;
        }
    }
}
