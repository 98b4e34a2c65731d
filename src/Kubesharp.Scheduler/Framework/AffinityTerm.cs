using Kubesharp.Client;

namespace Kubesharp.Scheduler.Framework;

/// <summary>A parsed pod (anti-)affinity term: which pods (selector, namespaces) and the topology key.</summary>
public sealed class AffinityTerm
{
    public AffinityTerm(LabelSelectorMatcher selector, IReadOnlySet<string> namespaces, LabelSelectorMatcher? namespaceSelector, string topologyKey, int weight)
    {
        Selector = selector;
        Namespaces = namespaces;
        NamespaceSelector = namespaceSelector;
        TopologyKey = topologyKey;
        Weight = weight;
    }

    public LabelSelectorMatcher Selector { get; }

    /// <summary>Explicit namespaces (the owning pod's when neither list nor selector is given).</summary>
    public IReadOnlySet<string> Namespaces { get; }

    /// <summary>Selects namespaces by their labels; empty selector means all namespaces.</summary>
    public LabelSelectorMatcher? NamespaceSelector { get; }

    public string TopologyKey { get; }

    /// <summary>1..100 for preferred terms, 0 for required ones.</summary>
    public int Weight { get; }

    public bool Matches(PodInfo pod, ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(snapshot);
        var inNamespace = Namespaces.Contains(pod.Namespace)
            || (NamespaceSelector is { } nsSelector && nsSelector.Matches(snapshot.NamespaceLabels(pod.Namespace)));
        return inNamespace && Selector.Matches(pod.Labels);
    }
}
