using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Kubesharp.Scheduler.Planning;

/// <summary>What to plan: the manifests (Pods, Deployments, ReplicaSets, StatefulSets, Jobs, DaemonSets; other kinds are listed as ignored) and optional hypothetical nodes.</summary>
public sealed record SchedulingPlanSpec
{
    /// <summary>The namespace of objects that name none (default "default").</summary>
    [JsonPropertyName("namespace")]
    public string? Namespace { get; set; }

    [JsonPropertyName("objects")]
    public List<JsonObject>? Objects { get; set; }

    [JsonPropertyName("addNodes")]
    public PlanNodePool? AddNodes { get; set; }
}
