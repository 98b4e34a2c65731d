using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.Client;

namespace Kubesharp.Scheduler.Framework;

/// <summary>A pod with what scheduling needs precomputed: requests, host ports, affinity terms, priority.</summary>
public sealed class PodInfo
{
    /// <summary>Requests assumed for scoring when a container states none (upstream's non-zero defaults).</summary>
    public const long DefaultMilliCpuRequest = 100;
    public const long DefaultMemoryRequest = 200 * 1024 * 1024;

    private static readonly Dictionary<string, string> NoLabels = [];

    public PodInfo(Pod pod, int? resolvedPriority = null)
    {
        ArgumentNullException.ThrowIfNull(pod);
        Pod = pod;
        var meta = pod.Metadata ?? new();
        Namespace = meta.Namespace ?? "default";
        Name = meta.Name ?? "";
        Key = ObjectKey.Of(Namespace, Name);
        Labels = meta.Labels ?? NoLabels;
        var spec = pod.Spec ?? new PodSpec();
        Priority = resolvedPriority ?? spec.Priority ?? 0;
        Requests = ComputeRequests(spec, out var nonZeroCpu, out var nonZeroMemory);
        NonZeroMilliCpu = nonZeroCpu;
        NonZeroMemory = nonZeroMemory;
        HostPorts = (spec.Containers ?? []).SelectMany(c => c.Ports ?? [])
            .Where(p => p.HostPort is > 0)
            .Select(p => new HostPort(string.IsNullOrEmpty(p.HostIP) ? HostPort.AnyIp : p.HostIP, p.Protocol ?? "TCP", p.HostPort!.Value))
            .ToList();
        var affinity = spec.Affinity;
        RequiredAffinity = Terms(affinity?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution, 0);
        RequiredAntiAffinity = Terms(affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution, 0);
        PreferredAffinity = Weighted(affinity?.PodAffinity?.PreferredDuringSchedulingIgnoredDuringExecution);
        PreferredAntiAffinity = Weighted(affinity?.PodAntiAffinity?.PreferredDuringSchedulingIgnoredDuringExecution);
    }

    public Pod Pod { get; }

    public string Key { get; }

    public string Namespace { get; }

    public string Name { get; }

    public IReadOnlyDictionary<string, string> Labels { get; }

    public int Priority { get; }

    public ResourceSet Requests { get; }

    public long NonZeroMilliCpu { get; }

    public long NonZeroMemory { get; }

    public IReadOnlyList<HostPort> HostPorts { get; }

    public IReadOnlyList<AffinityTerm> RequiredAffinity { get; }

    public IReadOnlyList<AffinityTerm> RequiredAntiAffinity { get; }

    public IReadOnlyList<AffinityTerm> PreferredAffinity { get; }

    public IReadOnlyList<AffinityTerm> PreferredAntiAffinity { get; }

    public bool HasAffinity => RequiredAffinity.Count + RequiredAntiAffinity.Count + PreferredAffinity.Count + PreferredAntiAffinity.Count > 0;

    public bool PreemptionNever => Pod.Spec?.PreemptionPolicy == "Never";

    private static ResourceSet ComputeRequests(PodSpec spec, out long nonZeroCpu, out long nonZeroMemory)
    {
        var total = new ResourceSet();
        nonZeroCpu = 0;
        nonZeroMemory = 0;
        foreach (var container in spec.Containers ?? [])
        {
            var requests = container.Resources?.Requests;
            total.Add(ResourceSet.FromList(requests));
            nonZeroCpu += requests is not null && requests.TryGetValue(ResourceSet.CpuName, out var cpu) ? cpu.MilliValue() : DefaultMilliCpuRequest;
            nonZeroMemory += requests is not null && requests.TryGetValue(ResourceSet.MemoryName, out var memory) ? memory.Value() : DefaultMemoryRequest;
        }

        // Sidecars (restartPolicy Always) run beside the app containers; other init containers run alone first.
        var sidecars = new ResourceSet();
        foreach (var init in spec.InitContainers ?? [])
        {
            var requests = ResourceSet.FromList(init.Resources?.Requests);
            if (init.RestartPolicy == "Always")
            {
                sidecars.Add(requests);
                total.Add(requests);
            }
            else
            {
                var alone = requests.Clone();
                alone.Add(sidecars);
                total.Max(alone);
            }
        }

        if (spec.Overhead is { } overhead)
        {
            total.Add(ResourceSet.FromList(overhead));
        }

        return total;
    }

    // Array.Empty, not [] (which beside a List in a conditional is a new List): most pods have no terms, and a PodInfo
    // is kept per placed pod.
    private IReadOnlyList<AffinityTerm> Terms(List<PodAffinityTerm>? terms, int weight) =>
        terms is null ? Array.Empty<AffinityTerm>() : terms.Select(t => Term(t, weight)).ToList();

    private IReadOnlyList<AffinityTerm> Weighted(List<WeightedPodAffinityTerm>? terms) =>
        terms is null ? Array.Empty<AffinityTerm>() : terms.Where(t => t.PodAffinityTerm is not null).Select(t => Term(t.PodAffinityTerm!, t.Weight ?? 1)).ToList();

    private AffinityTerm Term(PodAffinityTerm term, int weight)
    {
        var namespaces = term.Namespaces is { Count: > 0 } listed ? listed.ToHashSet(StringComparer.Ordinal) : [];
        LabelSelectorMatcher? namespaceSelector = term.NamespaceSelector is null ? null : LabelSelectorMatcher.FromLabelSelector(term.NamespaceSelector);
        if (namespaces.Count == 0 && namespaceSelector is null)
        {
            namespaces.Add(Namespace);
        }

        var selector = LabelSelectorMatcher.FromLabelSelector(term.LabelSelector);
        if (term.MatchLabelKeys is { Count: > 0 } keys)
        {
            // matchLabelKeys: the incoming pod's own values for these keys join the selector.
            var extra = keys.Where(Labels.ContainsKey).Select(k => new LabelRequirement(k, LabelOperator.In, [Labels[k]]));
            selector = selector.MatchesNothing ? selector : LabelSelectorMatcher.Create(selector.Requirements.Concat(extra));
        }

        return new AffinityTerm(selector, namespaces, namespaceSelector, term.TopologyKey ?? "", weight);
    }
}
