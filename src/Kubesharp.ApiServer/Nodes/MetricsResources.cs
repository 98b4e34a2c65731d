using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.ApiServer.Nodes;

/// <summary>The resource metrics API (metrics.k8s.io/v1beta1) as discovery publishes it: read-only node and pod usage.</summary>
internal static class MetricsResources
{
    public const string Group = "metrics.k8s.io";
    public const string Version = "v1beta1";

    public static IReadOnlyList<ApiResource> All { get; } =
    [
        new ApiResource
        {
            Group = Group, Version = Version, Resource = "nodes", Kind = "NodeMetrics", ListKind = "NodeMetricsList", SingularName = string.Empty,
            Namespaced = false, Verbs = ["get", "list"], DefinitionName = "io.k8s.metrics.pkg.apis.metrics.v1beta1.NodeMetrics",
        },
        new ApiResource
        {
            Group = Group, Version = Version, Resource = "pods", Kind = "PodMetrics", ListKind = "PodMetricsList", SingularName = string.Empty,
            Namespaced = true, Verbs = ["get", "list"], DefinitionName = "io.k8s.metrics.pkg.apis.metrics.v1beta1.PodMetrics",
        },
    ];
}
