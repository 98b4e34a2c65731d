using Kubesharp.Api.Core.V1;

namespace Kubesharp.Scheduler.Framework;

/// <summary>
/// The read-only cluster state one scheduling cycle decides on: nodes with their pods, how many nodes hold
/// each image, and namespace labels (for namespace selectors of affinity terms).
/// </summary>
public sealed class ClusterSnapshot
{
    private static readonly Dictionary<string, string> NoLabels = [];
    private readonly Dictionary<string, NodeInfo> byName;
    private readonly IReadOnlyDictionary<string, int> imageNodeCounts;
    private readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> namespaceLabels;
    private List<NodeInfo>? withAffinity;
    private List<NodeInfo>? withRequiredAntiAffinity;

    public ClusterSnapshot(
        IReadOnlyList<NodeInfo> nodes,
        IReadOnlyDictionary<string, int>? imageNodeCounts = null,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? namespaceLabels = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        Nodes = nodes;
        byName = nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        this.imageNodeCounts = imageNodeCounts ?? CountImages(nodes);
        this.namespaceLabels = namespaceLabels ?? new Dictionary<string, IReadOnlyDictionary<string, string>>();
    }

    /// <summary>A snapshot over the scheduler cache's live node index (no copy; the cache rebuilds it when nodes come or go).</summary>
    internal ClusterSnapshot(IReadOnlyList<NodeInfo> nodes, Dictionary<string, NodeInfo> byName, IReadOnlyDictionary<string, int> imageNodeCounts)
    {
        Nodes = nodes;
        this.byName = byName;
        this.imageNodeCounts = imageNodeCounts;
        namespaceLabels = new Dictionary<string, IReadOnlyDictionary<string, string>>();
    }

    public IReadOnlyList<NodeInfo> Nodes { get; }

    /// <summary>Nodes with a pod that has any pod (anti-)affinity.</summary>
    public IReadOnlyList<NodeInfo> NodesWithAffinityPods => withAffinity ??= Nodes.Where(n => n.PodsWithAffinity > 0).ToList();

    public IReadOnlyList<NodeInfo> NodesWithRequiredAntiAffinityPods =>
        withRequiredAntiAffinity ??= Nodes.Where(n => n.PodsWithRequiredAntiAffinity > 0).ToList();

    /// <summary>Builds a snapshot from API objects: pods are placed on their spec.nodeName.</summary>
    public static ClusterSnapshot Build(IEnumerable<Node> nodes, IEnumerable<Pod> pods, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? namespaceLabels = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(pods);
        var infos = nodes.Select(n => new NodeInfo(n)).ToList();
        var byName = infos.ToDictionary(n => n.Name, StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            if (pod.Spec?.NodeName is { Length: > 0 } nodeName && byName.TryGetValue(nodeName, out var node))
            {
                node.AddPod(new PodInfo(pod));
            }
        }

        return new ClusterSnapshot(infos, null, namespaceLabels);
    }

    public NodeInfo? Get(string name) => byName.GetValueOrDefault(name);

    public int ImageNodeCount(string normalizedImage) => imageNodeCounts.GetValueOrDefault(normalizedImage);

    public IReadOnlyDictionary<string, string> NamespaceLabels(string @namespace) =>
        namespaceLabels.GetValueOrDefault(@namespace) ?? NoLabels;

    public static Dictionary<string, int> CountImages(IEnumerable<NodeInfo> nodes)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            foreach (var image in node.ImageSizes.Keys)
            {
                counts[image] = counts.GetValueOrDefault(image) + 1;
            }
        }

        return counts;
    }
}
