using System.Globalization;
using System.Text.Json.Nodes;

namespace Kubesharp.Ingress.Gateway;

/// <summary>One status condition as Gateway API objects carry them (metav1.Condition).</summary>
internal sealed record GatewayCondition(string Type, bool Status, string Reason, string Message)
{
    /// <summary>
    /// The condition's JSON; its lastTransitionTime is kept from <paramref name="current"/> while the status stays the
    /// same, so an unchanged condition does not cause a write.
    /// </summary>
    public JsonObject ToJson(long generation, JsonNode? current, DateTimeOffset now)
    {
        var status = Status ? "True" : "False";
        var previous = (current as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == Type && (string?)c["status"] == status);
        return new JsonObject
        {
            ["type"] = Type,
            ["status"] = status,
            ["observedGeneration"] = generation,
            ["lastTransitionTime"] = (string?)previous?["lastTransitionTime"] ?? now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["reason"] = Reason,
            ["message"] = Message,
        };
    }

    /// <summary>The conditions' JSON array (see <see cref="ToJson"/>).</summary>
    public static JsonArray ToJson(IEnumerable<GatewayCondition> conditions, long generation, JsonNode? current, DateTimeOffset now) =>
        // JsonArray's generic Add is not trim-safe; the JsonNode constructor is.
        new([.. conditions.Select(c => (JsonNode?)c.ToJson(generation, current, now))]);
}
