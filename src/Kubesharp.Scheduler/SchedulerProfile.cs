using Kubesharp.Scheduler.Framework;
using Kubesharp.Scheduler.Plugins;

namespace Kubesharp.Scheduler;

/// <summary>The plugins of a scheduler, in upstream's default order and score weights.</summary>
public sealed class SchedulerProfile
{
    public required IReadOnlyList<IFilterPlugin> Filters { get; init; }

    public required IReadOnlyList<(IScorePlugin Plugin, int Weight)> Scores { get; init; }

    public static SchedulerProfile Default()
    {
        var taints = new TaintTolerationPlugin();
        var nodeAffinity = new NodeAffinityPlugin();
        var fit = new NodeResourcesFitPlugin();
        var spread = new PodTopologySpreadPlugin();
        var interPod = new InterPodAffinityPlugin();
        return new SchedulerProfile
        {
            Filters = [new NodeUnschedulablePlugin(), new NodeNamePlugin(), taints, nodeAffinity, new NodePortsPlugin(), fit, spread, interPod],
            Scores = [(taints, 3), (nodeAffinity, 2), (spread, 2), (interPod, 2), (fit, 1), (new BalancedAllocationPlugin(), 1), (new ImageLocalityPlugin(), 1)],
        };
    }
}
