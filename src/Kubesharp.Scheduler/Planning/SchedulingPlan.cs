using System.Text.Json.Serialization;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Scheduler.Planning;

/// <summary>
/// plan.kubesharp.io/v1 SchedulingPlan: a create-only object like a SubjectAccessReview. The client posts the
/// manifests in <see cref="Spec"/>; the API server answers with the same object and a <see cref="Status"/> saying where
/// each pod they would create lands, what it preempts and why the others stay Pending. Nothing is stored.
/// </summary>
public sealed record SchedulingPlan
{
    public const string Group = "plan.kubesharp.io";
    public const string Version = "v1";
    public const string KubeApiVersion = Group + "/" + Version;
    public const string KubeKind = "SchedulingPlan";
    public const string Resource = "schedulingplans";

    [JsonPropertyName("apiVersion")]
    public string? ApiVersion { get; set; } = KubeApiVersion;

    [JsonPropertyName("kind")]
    public string? Kind { get; set; } = KubeKind;

    [JsonPropertyName("metadata")]
    public ObjectMeta? Metadata { get; set; }

    [JsonPropertyName("spec")]
    public SchedulingPlanSpec? Spec { get; set; }

    [JsonPropertyName("status")]
    public SchedulingPlanStatus? Status { get; set; }
}
