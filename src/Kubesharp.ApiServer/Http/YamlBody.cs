using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.ApiServer.Http;

/// <summary>Decodes a YAML (or JSON) request body into one JSON object, within the decoder's limits.</summary>
internal static class YamlBody
{
    private static readonly DecodingLimits Limits = DecodingLimits.Default with { MaxDepth = 100, MaxAliasExpansionNodes = 10_000, MaxDocuments = 1 };

    public static JsonObject ToJsonObject(byte[] bytes)
    {
        TextEncodingCheck.EnsureUtf8(bytes);
        var node = YamlDecoder.Decode(Encoding.UTF8.GetString(bytes), Limits);
        return node switch
        {
            null => throw StatusError.BadRequest("the request body is empty"),
            JsonObject obj => obj,
            _ => throw StatusError.BadRequest("the YAML body is not an object"),
        };
    }
}
