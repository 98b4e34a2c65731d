namespace Kubesharp.Scheduler.Framework;

/// <summary>Decides whether a pod can run on a node. Must not change the snapshot.</summary>
public interface IFilterPlugin
{
    string Name { get; }

    /// <summary>Once per cycle before Filter; a non-success result fails every node with that verdict, <see cref="FilterResult.Skip"/> skips Filter.</summary>
    FilterResult PreFilter(CycleState state, PodInfo pod, ClusterSnapshot snapshot) => FilterResult.Success;

    FilterResult Filter(CycleState state, PodInfo pod, NodeInfo node);
}
