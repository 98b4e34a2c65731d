using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.Serialization;

/// <summary>Decodes JSON request bodies into a tree with a nesting limit; malformed input is a 400 BadRequest.</summary>
public static class JsonDecoder
{
    public static JsonNode? Decode(ReadOnlySpan<byte> utf8, DecodingLimits? limits = null)
    {
        limits ??= DecodingLimits.Default;
        TextEncodingCheck.EnsureJsonText(utf8);
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = limits.MaxDepth });
            var node = JsonNode.Parse(ref reader);
            if (reader.Read())
            {
                throw StatusException.BadRequest("json parse error: unexpected data after the top-level value");
            }

            return node;
        }
        catch (JsonException e)
        {
            throw StatusException.BadRequest($"json parse error: {e.Message}");
        }
    }

    public static JsonNode? Decode(string json, DecodingLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Decode(System.Text.Encoding.UTF8.GetBytes(json), limits);
    }
}
