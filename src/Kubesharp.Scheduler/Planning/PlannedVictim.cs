using System.Text.Json.Serialization;

namespace Kubesharp.Scheduler.Planning;

/// <summary>A pod a planned pod preempts: one already running, or one placed earlier in the same plan.</summary>
public sealed record PlannedVictim
{
    [JsonPropertyName("namespace")]
    public required string Namespace { get; set; }

    [JsonPropertyName("name")]
    public required string Name { get; set; }

    [JsonPropertyName("priority")]
    public int Priority { get; set; }

    /// <summary>True when the victim is itself a pod of this plan.</summary>
    [JsonPropertyName("planned")]
    public bool Planned { get; set; }
}
