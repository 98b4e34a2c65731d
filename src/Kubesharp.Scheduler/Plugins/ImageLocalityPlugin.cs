using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Plugins;

/// <summary>
/// Prefers nodes that already hold the pod's images, weighting each image by how widely it is spread
/// (so one node holding a common image does not attract every pod).
/// </summary>
public sealed class ImageLocalityPlugin : IScorePlugin
{
    private const long MinThreshold = 23L * 1024 * 1024;
    private const long MaxContainerThreshold = 1000L * 1024 * 1024;
    private const string StateKey = "ImageLocality";

    public string Name => "ImageLocality";

    public void PreScore(CycleState state, PodInfo pod, IReadOnlyList<NodeInfo> nodes, ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(snapshot);
        var images = (pod.Pod.Spec?.Containers ?? []).Concat(pod.Pod.Spec?.InitContainers ?? [])
            .Where(c => !string.IsNullOrEmpty(c.Image))
            .Select(c => NodeInfo.NormalizeImageName(c.Image!))
            .Select(i => (i, Spread: snapshot.Nodes.Count == 0 ? 0 : (double)snapshot.ImageNodeCount(i) / snapshot.Nodes.Count))
            .ToList();
        state.Write(StateKey, new Images(images, Math.Max(1, pod.Pod.Spec?.Containers?.Count ?? 1)));
    }

    public long Score(CycleState state, PodInfo pod, NodeInfo node)
    {
        var images = state.Read<Images>(StateKey);
        if (images is null)
        {
            return 0;
        }

        double sum = 0;
        foreach (var (image, spread) in images.List)
        {
            if (node.ImageSizes.TryGetValue(image, out var size))
            {
                sum += size * spread;
            }
        }

        var max = MaxContainerThreshold * images.Containers;
        var clamped = Math.Clamp(sum, MinThreshold, max);
        return (long)(IScorePlugin.MaxNodeScore * (clamped - MinThreshold) / (max - MinThreshold));
    }

    private sealed record Images(List<(string Image, double Spread)> List, int Containers);
}
