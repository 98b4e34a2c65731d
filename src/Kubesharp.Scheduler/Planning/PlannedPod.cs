using System.Text.Json.Serialization;

namespace Kubesharp.Scheduler.Planning;

/// <summary>One pod the manifests would create and where it would go.</summary>
public sealed record PlannedPod
{
    public const string Scheduled = "Scheduled";
    public const string Pending = "Pending";

    [JsonPropertyName("namespace")]
    public required string Namespace { get; set; }

    [JsonPropertyName("name")]
    public required string Name { get; set; }

    /// <summary>The manifest object that creates it, as KIND/NAME.</summary>
    [JsonPropertyName("owner")]
    public required string Owner { get; set; }

    [JsonPropertyName("priority")]
    public int Priority { get; set; }

    /// <summary>Scheduled or Pending.</summary>
    [JsonPropertyName("phase")]
    public required string Phase { get; set; }

    [JsonPropertyName("node")]
    public string? Node { get; set; }

    /// <summary>Pods evicted so it fits on <see cref="Node"/>.</summary>
    [JsonPropertyName("preempts")]
    public List<PlannedVictim>? Preempts { get; set; }

    /// <summary>The scheduler's FailedScheduling message when it is Pending (or why it had to preempt).</summary>
    [JsonPropertyName("message")]
    public string? Message { get; set; }

    /// <summary>Per plugin and reason, how many nodes rejected it (as <c>kubesharp explain pod</c> shows them).</summary>
    [JsonPropertyName("reasons")]
    public List<PlanFilterReason>? Reasons { get; set; }
}
