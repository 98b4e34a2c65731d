using Kubesharp.Api.Core.V1;
using Kubesharp.Client;
using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler;

/// <summary>
/// The scheduler's live view of nodes and placed pods, including pods assumed on a node while their binding
/// is in flight. Owned by the scheduling loop: informer callbacks queue changes that the loop applies
/// between attempts (or the callback itself, while the loop waits for a pod), so a cycle's snapshot never changes
/// under it. The snapshot is kept across cycles and
/// rebuilt only when nodes come or go or a pod with inter-pod affinity terms is placed or removed (the lists of
/// nodes with such pods are computed once per snapshot).
/// </summary>
internal sealed class SchedulerCache
{
    private readonly Dictionary<string, NodeInfo> nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> podNodes = new(StringComparer.Ordinal);
    private readonly HashSet<string> assumed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> imageCounts = new(StringComparer.Ordinal);
    private ClusterSnapshot? snapshot;

    public int NodeCount => nodes.Count;

    public ClusterSnapshot Snapshot() => snapshot ??= new ClusterSnapshot([.. nodes.Values], new Dictionary<string, NodeInfo>(nodes, StringComparer.Ordinal), imageCounts);

    public bool IsPlaced(string podKey) => podNodes.ContainsKey(podKey);

    public void SetNode(Node node)
    {
        var name = node.Metadata?.Name ?? "";
        if (nodes.TryGetValue(name, out var info))
        {
            CountImages(info, -1);
            info.SetNode(node);
        }
        else
        {
            nodes[name] = info = new NodeInfo(node);
            snapshot = null;
        }

        CountImages(info, 1);
    }

    public void RemoveNode(string name)
    {
        if (nodes.Remove(name, out var info))
        {
            CountImages(info, -1);
            snapshot = null;
            foreach (var pod in info.Pods)
            {
                podNodes.Remove(pod.Key);
                assumed.Remove(pod.Key);
            }
        }
    }

    /// <summary>A pod the API reports on a node (confirms an assumption).</summary>
    public void SetPod(PodInfo pod)
    {
        var nodeName = pod.Pod.Spec?.NodeName ?? "";
        RemovePod(pod.Key);
        if (nodes.TryGetValue(nodeName, out var node))
        {
            node.AddPod(pod);
            podNodes[pod.Key] = nodeName;
            InvalidateFor(pod);
        }
    }

    public void Assume(PodInfo pod, string nodeName)
    {
        RemovePod(pod.Key);
        if (nodes.TryGetValue(nodeName, out var node))
        {
            node.AddPod(pod);
            podNodes[pod.Key] = nodeName;
            assumed.Add(pod.Key);
            InvalidateFor(pod);
        }
    }

    /// <summary>Drops an assumption whose binding failed (a confirmed pod stays).</summary>
    public void Forget(string podKey)
    {
        if (assumed.Contains(podKey))
        {
            RemovePod(podKey);
        }
    }

    public void RemovePod(string podKey)
    {
        assumed.Remove(podKey);
        if (podNodes.Remove(podKey, out var nodeName) && nodes.TryGetValue(nodeName, out var node))
        {
            var affinityPods = node.PodsWithAffinity;
            node.RemovePod(podKey);
            if (node.PodsWithAffinity != affinityPods)
            {
                snapshot = null;
            }
        }
    }

    private void InvalidateFor(PodInfo pod)
    {
        if (pod.HasAffinity)
        {
            snapshot = null;
        }
    }

    private void CountImages(NodeInfo info, int sign)
    {
        foreach (var image in info.ImageSizes.Keys)
        {
            var count = imageCounts.GetValueOrDefault(image) + sign;
            if (count <= 0)
            {
                imageCounts.Remove(image);
            }
            else
            {
                imageCounts[image] = count;
            }
        }
    }

    public static string KeyOf(Pod pod) => ObjectKey.Of(pod);
}
