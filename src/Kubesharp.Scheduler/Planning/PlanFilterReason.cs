using System.Text.Json.Serialization;

namespace Kubesharp.Scheduler.Planning;

/// <summary>A filter plugin's reason and the number of nodes it rejected for it.</summary>
public sealed record PlanFilterReason
{
    [JsonPropertyName("plugin")]
    public required string Plugin { get; set; }

    [JsonPropertyName("reason")]
    public required string Reason { get; set; }

    [JsonPropertyName("nodes")]
    public int Nodes { get; set; }

    /// <summary>Up to five of those nodes, for a first look.</summary>
    [JsonPropertyName("examples")]
    public List<string>? Examples { get; set; }
}
