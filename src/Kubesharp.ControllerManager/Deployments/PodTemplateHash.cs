using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.Api;
using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.Deployments;

/// <summary>
/// The pod-template-hash label value: FNV-32a over the pod template (in a canonical JSON form with sorted keys)
/// followed by the collision count as eight little-endian bytes, the decimal digits of the hash then mapped onto
/// an alphabet without vowels so the value never spells words.
/// </summary>
internal static class PodTemplateHash
{
    public const string Label = "pod-template-hash";

    private const string SafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static string Compute(PodTemplateSpec template, int? collisionCount)
    {
        var node = JsonSerializer.SerializeToNode(template, KubernetesJsonContext.Default.CoreV1PodTemplateSpec);
        var canonical = new StringBuilder();
        WriteCanonical(node, canonical);
        var hash = Fnv32a.Offset;
        hash = Fnv32a.Append(hash, Encoding.UTF8.GetBytes(canonical.ToString()));
        if (collisionCount is { } count)
        {
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, unchecked((uint)count));
            hash = Fnv32a.Append(hash, bytes);
        }

        return SafeEncode(hash.ToString(CultureInfo.InvariantCulture));
    }

    public static string SafeEncode(string value)
    {
        var chars = new char[value.Length];
        for (var i = 0; i < value.Length; i++)
        {
            chars[i] = SafeAlphabet[value[i] % SafeAlphabet.Length];
        }

        return new string(chars);
    }

    private static void WriteCanonical(JsonNode? node, StringBuilder output)
    {
        switch (node)
        {
            case JsonObject obj:
                output.Append('{');
                var first = true;
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (value is null)
                    {
                        continue;
                    }

                    if (!first)
                    {
                        output.Append(',');
                    }

                    first = false;
                    output.Append('"').Append(JsonEncodedText.Encode(key).ToString()).Append("\":");
                    WriteCanonical(value, output);
                }

                output.Append('}');
                break;
            case JsonArray array:
                output.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        output.Append(',');
                    }

                    WriteCanonical(array[i], output);
                }

                output.Append(']');
                break;
            case null:
                output.Append("null");
                break;
            default:
                output.Append(node.ToJsonString());
                break;
        }
    }

    private static class Fnv32a
    {
        public const uint Offset = 2166136261;
        private const uint Prime = 16777619;

        public static uint Append(uint hash, ReadOnlySpan<byte> data)
        {
            foreach (var b in data)
            {
                hash ^= b;
                hash = unchecked(hash * Prime);
            }

            return hash;
        }
    }
}
