using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Registry;

/// <summary>Reads integers from JSON nodes whether they were parsed or built in code (int, long, double).</summary>
internal static class JsonNumber
{
    public static long? Int64(JsonNode? node)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number)
        {
            return null;
        }

        if (value.TryGetValue<long>(out var l))
        {
            return l;
        }

        if (value.TryGetValue<int>(out var i))
        {
            return i;
        }

        return long.TryParse(value.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
    }
}
