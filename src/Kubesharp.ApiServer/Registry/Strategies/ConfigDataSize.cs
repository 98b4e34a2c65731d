using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// Upstream's cap on the payload of a ConfigMap or Secret: 1 MiB of values (data and binaryData bytes, base64
/// counted decoded), reported on the whole object for ConfigMaps and on <c>data</c> for Secrets.
/// </summary>
internal static class ConfigDataSize
{
    public const int MaxBytes = 1024 * 1024;

    public static void Validate(JsonObject obj, bool secret, List<StatusCause> causes)
    {
        long total = 0;
        if (obj["data"] is JsonObject data)
        {
            foreach (var (_, value) in data)
            {
                total += (string?)value is { } text ? secret ? DecodedLength(text) : Encoding.UTF8.GetByteCount(text) : 0;
            }
        }

        if (!secret && obj["binaryData"] is JsonObject binary)
        {
            foreach (var (_, value) in binary)
            {
                total += (string?)value is { } text ? DecodedLength(text) : 0;
            }
        }

        if (total > MaxBytes)
        {
            causes.Add(new StatusCause("FieldValueTooLong", "Too long: may not be more than 1048576 bytes", secret ? "data" : string.Empty));
        }
    }

    private static long DecodedLength(string base64)
    {
        var padding = base64.EndsWith("==", StringComparison.Ordinal) ? 2 : base64.EndsWith('=') ? 1 : 0;
        return Math.Max(0, (base64.Length / 4 * 3) - padding);
    }
}
