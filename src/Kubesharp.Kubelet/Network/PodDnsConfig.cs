using Kubesharp.Api.Core.V1;

namespace Kubesharp.Kubelet.Network;

/// <summary>
/// A pod's resolv.conf from its dnsPolicy and dnsConfig, the cluster DNS settings and the node's own
/// resolv.conf. Pure: the caller reads the node file and writes the result.
/// </summary>
public static class PodDnsConfig
{
    public const string ClusterFirst = "ClusterFirst";
    public const string ClusterFirstWithHostNet = "ClusterFirstWithHostNet";
    public const string Default = "Default";
    public const string None = "None";

    /// <summary>The resolver reads at most three nameservers.</summary>
    public const int MaxNameservers = 3;

    /// <summary>Upstream's limits on search paths (count and total length).</summary>
    public const int MaxSearches = 32;
    public const int MaxSearchLength = 2048;

    public const int ClusterNdots = 5;

    /// <param name="pod">The pod (its namespace, dnsPolicy, dnsConfig and hostNetwork are read).</param>
    /// <param name="clusterDns">The cluster DNS addresses (the kube-dns Service IP); empty when cluster DNS is off.</param>
    /// <param name="clusterDomain">The cluster domain, normally cluster.local.</param>
    /// <param name="host">The node's resolv.conf.</param>
    public static ResolvConf For(Pod pod, IReadOnlyList<string> clusterDns, string clusterDomain, ResolvConf host)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(clusterDns);
        ArgumentNullException.ThrowIfNull(host);
        var spec = pod.Spec;
        var policy = string.IsNullOrEmpty(spec?.DnsPolicy) ? ClusterFirst : spec.DnsPolicy;
        var hostNetwork = spec?.HostNetwork == true;

        // Host-network pods resolve like the node unless they ask for cluster DNS explicitly;
        // without a cluster DNS address ClusterFirst falls back to the node's resolvers.
        var useCluster = policy switch
        {
            ClusterFirst => !hostNetwork,
            ClusterFirstWithHostNet => true,
            _ => false,
        } && clusterDns.Count > 0;

        List<string> nameservers;
        List<string> searches;
        List<string> options;
        if (policy == None)
        {
            nameservers = [];
            searches = [];
            options = [];
        }
        else if (useCluster)
        {
            var ns = pod.Metadata?.Namespace is { Length: > 0 } n ? n : "default";
            nameservers = [.. clusterDns];
            searches = [$"{ns}.svc.{clusterDomain}", $"svc.{clusterDomain}", clusterDomain, .. host.Searches];
            options = [$"ndots:{ClusterNdots}"];
        }
        else
        {
            nameservers = [.. host.Nameservers];
            searches = [.. host.Searches];
            options = [.. host.Options];
        }

        if (spec?.DnsConfig is { } config)
        {
            nameservers.AddRange(config.Nameservers ?? []);
            searches.AddRange(config.Searches ?? []);
            options = MergeOptions(options, config.Options ?? []);
        }

        return new ResolvConf(
            [.. nameservers.Distinct(StringComparer.Ordinal).Take(MaxNameservers)],
            LimitSearches(searches.Select(s => s.TrimEnd('.')).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal)),
            options);
    }

    private static List<string> MergeOptions(List<string> existing, List<PodDNSConfigOption> overrides)
    {
        // Options are keyed by name; a dnsConfig option replaces the same-named option from the base.
        var merged = new List<(string Name, string Text)>();
        foreach (var option in existing)
        {
            var name = option.Split(':', 2)[0];
            merged.RemoveAll(o => o.Name == name);
            merged.Add((name, option));
        }

        foreach (var option in overrides)
        {
            if (string.IsNullOrEmpty(option.Name))
            {
                continue;
            }

            var text = option.Value is null ? option.Name : $"{option.Name}:{option.Value}";
            var index = merged.FindIndex(o => o.Name == option.Name);
            if (index >= 0)
            {
                merged[index] = (option.Name, text);
            }
            else
            {
                merged.Add((option.Name, text));
            }
        }

        return [.. merged.Select(o => o.Text)];
    }

    private static List<string> LimitSearches(IEnumerable<string> searches)
    {
        var kept = new List<string>();
        var length = 0;
        foreach (var search in searches)
        {
            if (kept.Count == MaxSearches || length + search.Length + kept.Count > MaxSearchLength)
            {
                break;
            }

            kept.Add(search);
            length += search.Length;
        }

        return kept;
    }
}
