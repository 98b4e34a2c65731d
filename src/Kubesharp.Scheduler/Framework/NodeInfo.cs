using Kubesharp.Api.Core.V1;

namespace Kubesharp.Scheduler.Framework;

/// <summary>A node with the pods placed on it and their aggregated requests. Read-only during a scheduling cycle.</summary>
public sealed class NodeInfo
{
    private static readonly Dictionary<string, string> NoLabels = [];
    private readonly List<PodInfo> pods = [];
    private readonly List<HostPort> usedPorts = [];

    public NodeInfo(Node node)
    {
        SetNode(node);
    }

    public Node Node { get; private set; } = null!;

    public string Name { get; private set; } = "";

    public IReadOnlyDictionary<string, string> Labels { get; private set; } = NoLabels;

    public IReadOnlyList<Taint> Taints { get; private set; } = [];

    public bool Unschedulable { get; private set; }

    public ResourceSet Allocatable { get; private set; } = new();

    /// <summary>Sum of the requests of the pods on the node.</summary>
    public ResourceSet Requested { get; private set; } = new();

    /// <summary>Requests with upstream's non-zero defaults, for scoring.</summary>
    public long NonZeroMilliCpu { get; private set; }

    public long NonZeroMemory { get; private set; }

    public IReadOnlyList<PodInfo> Pods => pods;

    public IReadOnlyList<HostPort> UsedPorts => usedPorts;

    /// <summary>Image sizes by every name the node reports for an image.</summary>
    public IReadOnlyDictionary<string, long> ImageSizes { get; private set; } = new Dictionary<string, long>();

    /// <summary>Pods on the node with any (anti-)affinity, for the inter-pod affinity plugin.</summary>
    public int PodsWithAffinity { get; private set; }

    public int PodsWithRequiredAntiAffinity { get; private set; }

    public void SetNode(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        Node = node;
        Name = node.Metadata?.Name ?? "";
        Labels = node.Metadata?.Labels ?? NoLabels;
        Taints = node.Spec?.Taints ?? [];
        Unschedulable = node.Spec?.Unschedulable == true;
        Allocatable = ResourceSet.FromList(node.Status?.Allocatable ?? node.Status?.Capacity);
        var images = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var image in node.Status?.Images ?? [])
        {
            foreach (var name in image.Names ?? [])
            {
                images[NormalizeImageName(name)] = image.SizeBytes ?? 0;
            }
        }

        ImageSizes = images;
    }

    public void AddPod(PodInfo pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        pods.Add(pod);
        Update(pod, 1);
    }

    /// <summary>Removes the pod with the same key; false when it is not on the node.</summary>
    public bool RemovePod(string key)
    {
        var index = pods.FindIndex(p => p.Key == key);
        if (index < 0)
        {
            return false;
        }

        var pod = pods[index];
        pods[index] = pods[^1];
        pods.RemoveAt(pods.Count - 1);
        Update(pod, -1);
        return true;
    }

    /// <summary>A copy with the same node and pods, for what-if evaluation (preemption).</summary>
    public NodeInfo Clone()
    {
        var copy = new NodeInfo(Node);
        foreach (var pod in pods)
        {
            copy.AddPod(pod);
        }

        return copy;
    }

    /// <summary>Image references as nodes report them: a missing tag means :latest, docker.io prefixes dropped.</summary>
    public static string NormalizeImageName(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var name = image;
        foreach (var prefix in (string[])["docker.io/library/", "docker.io/"])
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                name = name[prefix.Length..];
                break;
            }
        }

        var lastSlash = name.LastIndexOf('/');
        if (!name.Contains('@', StringComparison.Ordinal) && name.IndexOf(':', lastSlash + 1) < 0)
        {
            name += ":latest";
        }

        return name;
    }

    private void Update(PodInfo pod, int sign)
    {
        Requested.Add(pod.Requests, sign);
        NonZeroMilliCpu += sign * pod.NonZeroMilliCpu;
        NonZeroMemory += sign * pod.NonZeroMemory;
        if (pod.HasAffinity)
        {
            PodsWithAffinity += sign;
        }

        if (pod.RequiredAntiAffinity.Count > 0)
        {
            PodsWithRequiredAntiAffinity += sign;
        }

        foreach (var port in pod.HostPorts)
        {
            if (sign > 0)
            {
                usedPorts.Add(port);
            }
            else
            {
                usedPorts.Remove(port);
            }
        }
    }
}
