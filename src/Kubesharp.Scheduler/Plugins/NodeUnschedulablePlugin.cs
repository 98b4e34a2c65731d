using Kubesharp.Api.Core.V1;
using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Plugins;

/// <summary>Cordoned nodes (spec.unschedulable) take only pods tolerating node.kubernetes.io/unschedulable.</summary>
public sealed class NodeUnschedulablePlugin : IFilterPlugin
{
    public const string Reason = "node(s) were unschedulable";
    private static readonly Taint UnschedulableTaint = new() { Key = "node.kubernetes.io/unschedulable", Effect = "NoSchedule" };

    public string Name => "NodeUnschedulable";

    public FilterResult Filter(CycleState state, PodInfo pod, NodeInfo node)
    {
        if (!node.Unschedulable)
        {
            return FilterResult.Success;
        }

        var tolerations = pod.Pod.Spec?.Tolerations ?? [];
        return tolerations.Any(t => TaintTolerationPlugin.Tolerates(t, UnschedulableTaint)) ? FilterResult.Success : FilterResult.Unresolvable(Reason);
    }
}
