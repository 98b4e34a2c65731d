using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Plugins;

/// <summary>Prefers nodes whose cpu and memory utilisation stay close to each other after placing the pod.</summary>
public sealed class BalancedAllocationPlugin : IScorePlugin
{
    public string Name => "NodeResourcesBalancedAllocation";

    public long Score(CycleState state, PodInfo pod, NodeInfo node)
    {
        var cpu = Fraction(node.NonZeroMilliCpu + pod.NonZeroMilliCpu, node.Allocatable.MilliCpu);
        var memory = Fraction(node.NonZeroMemory + pod.NonZeroMemory, node.Allocatable.Memory);

        // The standard deviation of two values is half their distance.
        var deviation = Math.Abs(cpu - memory) / 2;
        return (long)((1 - deviation) * IScorePlugin.MaxNodeScore);
    }

    private static double Fraction(long requested, long capacity) =>
        capacity == 0 ? 1 : Math.Min(1, (double)requested / capacity);
}
