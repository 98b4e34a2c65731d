using System.Text.Json.Nodes;
using Kubesharp.Api.Protobuf;

namespace Kubesharp.ApiServer.Http;

/// <summary>Decodes a Kubernetes protobuf request body (what typed clients such as kubectl send) into one JSON object.</summary>
internal static class ProtobufBody
{
    public static bool IsProtobuf(string baseContentType) => baseContentType == ProtobufEnvelope.MediaType;

    public static JsonObject ToJsonObject(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            throw StatusError.BadRequest("the request body is empty");
        }

        try
        {
            return ProtobufDecoder.DecodeEnvelope(bytes);
        }
        catch (ProtobufFormatException ex)
        {
            throw StatusError.BadRequest("the body of the request was in an unknown format: " + ex.Message);
        }
    }
}
