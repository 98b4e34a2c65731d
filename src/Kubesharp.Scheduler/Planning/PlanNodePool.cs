using System.Text.Json.Serialization;
using Kubesharp.Api.Core.V1;

namespace Kubesharp.Scheduler.Planning;

/// <summary>Nodes that do not exist yet, all of one shape: "what if I add these".</summary>
public sealed record PlanNodePool
{
    [JsonPropertyName("count")]
    public int Count { get; set; }

    /// <summary>Names are the prefix and 1..count (default "planned-node-").</summary>
    [JsonPropertyName("namePrefix")]
    public string? NamePrefix { get; set; }

    /// <summary>Capacity (and allocatable) of each node: cpu and memory required, pods defaults to 110.</summary>
    [JsonPropertyName("capacity")]
    public Dictionary<string, string>? Capacity { get; set; }

    [JsonPropertyName("labels")]
    public Dictionary<string, string>? Labels { get; set; }

    [JsonPropertyName("taints")]
    public List<Taint>? Taints { get; set; }
}
