using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Plugins;

/// <summary>
/// Fits requests (cpu, memory, ephemeral-storage, extended resources, pod count) into node allocatable;
/// scores with the least-allocated strategy on cpu and memory (equal weights).
/// </summary>
public sealed class NodeResourcesFitPlugin : IFilterPlugin, IScorePlugin
{
    public string Name => "NodeResourcesFit";

    public FilterResult Filter(CycleState state, PodInfo pod, NodeInfo node)
    {
        List<string>? reasons = null;
        if (node.Pods.Count + 1 > node.Allocatable.AllowedPods)
        {
            (reasons ??= []).Add("Too many pods");
        }

        var request = pod.Requests;
        var used = node.Requested;
        var allocatable = node.Allocatable;
        if (request.MilliCpu > 0 && allocatable.MilliCpu < request.MilliCpu + used.MilliCpu)
        {
            (reasons ??= []).Add("Insufficient cpu");
        }

        if (request.Memory > 0 && allocatable.Memory < request.Memory + used.Memory)
        {
            (reasons ??= []).Add("Insufficient memory");
        }

        if (request.EphemeralStorage > 0 && allocatable.EphemeralStorage < request.EphemeralStorage + used.EphemeralStorage)
        {
            (reasons ??= []).Add("Insufficient ephemeral-storage");
        }

        if (request.HasScalars)
        {
            foreach (var (name, amount) in request.Scalars)
            {
                if (amount > 0 && allocatable.Scalar(name) < amount + used.Scalar(name))
                {
                    (reasons ??= []).Add($"Insufficient {name}");
                }
            }
        }

        return reasons is null ? FilterResult.Success : new FilterResult(FilterCode.Unschedulable, reasons);
    }

    public long Score(CycleState state, PodInfo pod, NodeInfo node) =>
        (LeastAllocated(node.NonZeroMilliCpu + pod.NonZeroMilliCpu, node.Allocatable.MilliCpu)
         + LeastAllocated(node.NonZeroMemory + pod.NonZeroMemory, node.Allocatable.Memory)) / 2;

    private static long LeastAllocated(long requested, long capacity) =>
        capacity == 0 || requested > capacity ? 0 : (capacity - requested) * IScorePlugin.MaxNodeScore / capacity;
}
