using System.Text.Json.Serialization;

namespace Kubesharp.Scheduler.Planning;

/// <summary>The plan's outcome: one entry per pod, in the order the scheduler would take them (priority, then manifest order).</summary>
public sealed record SchedulingPlanStatus
{
    /// <summary>Nodes considered: the cluster's plus the added ones.</summary>
    [JsonPropertyName("nodes")]
    public int Nodes { get; set; }

    /// <summary>The resourceVersion of the cluster state the plan was computed on.</summary>
    [JsonPropertyName("resourceVersion")]
    public string? ResourceVersion { get; set; }

    [JsonPropertyName("addedNodes")]
    public List<string>? AddedNodes { get; set; }

    [JsonPropertyName("scheduled")]
    public int Scheduled { get; set; }

    [JsonPropertyName("pending")]
    public int Pending { get; set; }

    /// <summary>Existing or planned pods the plan would evict.</summary>
    [JsonPropertyName("preempted")]
    public int Preempted { get; set; }

    /// <summary>Objects that create no pods (kind/name), left out of the plan.</summary>
    [JsonPropertyName("ignored")]
    public List<string>? Ignored { get; set; }

    [JsonPropertyName("pods")]
    public List<PlannedPod> Pods { get; set; } = [];
}
