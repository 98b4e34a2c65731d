using Kubesharp.Scheduler.Framework;
using Kubesharp.Scheduler.Plugins;

namespace Kubesharp.Scheduler;

/// <summary>The plugins of a scheduler, in upstream's default order and score weights.</summary>
public sealed class SchedulerProfile
{
    public required IReadOnlyList<IFilterPlugin> Filters { get; init; }

    public required IReadOnlyList<(IScorePlugin Plugin, int Weight)> Scores { get; init; }

    /// <param name="volumes">Claims, volumes and classes for the VolumeBinding filter; without them the filter is left out.</param>
    public static SchedulerProfile Default(IVolumeLookup? volumes = null)
    {
        var taints = new TaintTolerationPlugin();
        var nodeAffinity = new NodeAffinityPlugin();
        var fit = new NodeResourcesFitPlugin();
        var spread = new PodTopologySpreadPlugin();
        var interPod = new InterPodAffinityPlugin();
        return new SchedulerProfile
        {
            Filters = volumes is null
                ? [new NodeUnschedulablePlugin(), new NodeNamePlugin(), taints, nodeAffinity, new NodePortsPlugin(), fit, spread, interPod]
                : [new NodeUnschedulablePlugin(), new NodeNamePlugin(), taints, nodeAffinity, new NodePortsPlugin(), fit, new VolumeBindingPlugin(volumes), spread, interPod],
            Scores = [(taints, 3), (nodeAffinity, 2), (spread, 2), (interPod, 2), (fit, 1), (new BalancedAllocationPlugin(), 1), (new ImageLocalityPlugin(), 1)],
        };
    }
}
