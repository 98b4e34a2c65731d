using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Plugins;

/// <summary>A pod's host ports must be free on the node (same protocol and port, overlapping IP).</summary>
public sealed class NodePortsPlugin : IFilterPlugin
{
    public const string Reason = "node(s) didn't have free ports for the requested pod ports";

    public string Name => "NodePorts";

    public FilterResult PreFilter(CycleState state, PodInfo pod, ClusterSnapshot snapshot) =>
        pod?.HostPorts.Count is null or 0 ? FilterResult.Skip : FilterResult.Success;

    public FilterResult Filter(CycleState state, PodInfo pod, NodeInfo node)
    {
        foreach (var wanted in pod.HostPorts)
        {
            foreach (var used in node.UsedPorts)
            {
                if (wanted.ConflictsWith(used))
                {
                    return FilterResult.Unschedulable(Reason);
                }
            }
        }

        return FilterResult.Success;
    }
}
