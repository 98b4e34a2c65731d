using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Plugins;

/// <summary>A pod that names a node in spec.nodeName fits only that node.</summary>
public sealed class NodeNamePlugin : IFilterPlugin
{
    public const string Reason = "node(s) didn't match the requested node name";

    public string Name => "NodeName";

    public FilterResult PreFilter(CycleState state, PodInfo pod, ClusterSnapshot snapshot) =>
        string.IsNullOrEmpty(pod?.Pod.Spec?.NodeName) ? FilterResult.Skip : FilterResult.Success;

    public FilterResult Filter(CycleState state, PodInfo pod, NodeInfo node) =>
        pod.Pod.Spec?.NodeName is { Length: > 0 } wanted && wanted != node.Name ? FilterResult.Unresolvable(Reason) : FilterResult.Success;
}
