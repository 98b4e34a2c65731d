using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.ControllerManager.Tests;

/// <summary>Builders for the API objects the controller tests reason about.</summary>
internal static class Objects
{
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static Deployment Deployment(string name = "web", int replicas = 3, string image = "nginx:1", IntOrString? maxSurge = null, IntOrString? maxUnavailable = null, string strategy = "RollingUpdate") => new()
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Metadata = new ObjectMeta { Name = name, Namespace = "default", Uid = "uid-" + name, Generation = 1, CreationTimestamp = Epoch },
        Spec = new DeploymentSpec
        {
            Replicas = replicas,
            RevisionHistoryLimit = 10,
            ProgressDeadlineSeconds = 600,
            Selector = new LabelSelector { MatchLabels = new() { ["app"] = name } },
            Strategy = strategy == "RollingUpdate"
                ? new DeploymentStrategy { Type = strategy, RollingUpdate = new RollingUpdateDeployment { MaxSurge = maxSurge ?? "25%", MaxUnavailable = maxUnavailable ?? "25%" } }
                : new DeploymentStrategy { Type = strategy },
            Template = Template(name, image),
        },
    };

    public static PodTemplateSpec Template(string app, string image) => new()
    {
        Metadata = new ObjectMeta { Labels = new() { ["app"] = app } },
        Spec = new PodSpec { Containers = [new Container { Name = "main", Image = image }] },
    };

    public static Pod Pod(string name, string? node = null, string phase = "Running", bool ready = true, DateTimeOffset? readySince = null, DateTimeOffset? created = null, string? owner = null, Dictionary<string, string>? labels = null) => new()
    {
        Metadata = new ObjectMeta
        {
            Name = name,
            Namespace = "default",
            Uid = "uid-" + name,
            CreationTimestamp = created ?? Epoch,
            Labels = labels ?? new() { ["app"] = "web" },
            OwnerReferences = owner is null ? null : [new OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = owner, Uid = "uid-" + owner, Controller = true }],
        },
        Spec = new PodSpec { NodeName = node },
        Status = new PodStatus
        {
            Phase = phase,
            Conditions = [new PodCondition { Type = "Ready", Status = ready ? "True" : "False", LastTransitionTime = readySince ?? Epoch }],
        },
    };

    public static ReplicaSet ReplicaSet(string name, int replicas, PodTemplateSpec? template = null, int minReadySeconds = 0) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = "default", Uid = "uid-" + name, Generation = 1 },
        Spec = new ReplicaSetSpec
        {
            Replicas = replicas,
            MinReadySeconds = minReadySeconds,
            Selector = new LabelSelector { MatchLabels = new() { ["app"] = "web" } },
            Template = template ?? Template("web", "nginx:1"),
        },
    };
}
