using System.Text.Json;

namespace Kubesharp.ApiServer.FlowControl;

/// <summary>The parts of a PriorityLevelConfiguration's spec that dispatching needs, with upstream's defaults.</summary>
internal sealed record PriorityLevelSpec(
    string Name,
    string? Uid,
    bool Exempt,
    int NominalConcurrencyShares,
    int LendablePercent,
    bool Queuing,
    int Queues,
    int HandSize,
    int QueueLengthLimit)
{
    /// <summary>Seats this level may borrow beyond its own, as a percentage of them; null = no limit (upstream's default).</summary>
    public int? BorrowingLimitPercent { get; init; }

    public static PriorityLevelSpec Parse(string name, string? uid, JsonElement root)
    {
        var spec = Property(root, "spec");
        if (Text(Property(spec, "type")) == "Exempt")
        {
            var exempt = Property(spec, "exempt");
            return new PriorityLevelSpec(name, uid, true, Int(Property(exempt, "nominalConcurrencyShares"), 0), Int(Property(exempt, "lendablePercent"), 0), false, 0, 0, 0);
        }

        var limited = Property(spec, "limited");
        var response = Property(limited, "limitResponse");
        var queuing = Text(Property(response, "type")) != "Reject";
        var config = Property(response, "queuing");
        return new PriorityLevelSpec(
            name,
            uid,
            false,
            Int(Property(limited, "nominalConcurrencyShares"), 30),
            Int(Property(limited, "lendablePercent"), 0),
            queuing,
            Math.Max(1, Int(Property(config, "queues"), 64)),
            Math.Max(1, Int(Property(config, "handSize"), 8)),
            Math.Max(0, Int(Property(config, "queueLengthLimit"), 50)))
        {
            BorrowingLimitPercent = Property(limited, "borrowingLimitPercent") is { ValueKind: JsonValueKind.Number } borrowing && borrowing.TryGetInt32(out var percent) ? Math.Max(0, percent) : null,
        };
    }

    private static JsonElement Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    private static string? Text(JsonElement element) => element.ValueKind == JsonValueKind.String ? element.GetString() : null;

    private static int Int(JsonElement element, int fallback) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var value) ? Math.Max(0, value) : fallback;
}
