using Kubesharp.Dns;
using Kubesharp.Kubelet;
using Kubesharp.Proxy;

namespace Kubesharp.NodeAgents;

/// <summary>Everything a node runs: the kubelet, the service proxy and (optionally) node-local cluster DNS.</summary>
internal sealed record NodeAgentOptions
{
    /// <summary>The dummy link that holds the cluster DNS address on a node.</summary>
    public const string DefaultDnsInterface = "kubesharp-dns";

    public required KubeletOptions Kubelet { get; init; }

    /// <summary>
    /// A node on the cluster's networks: pods masquerade when reaching services from outside
    /// <paramref name="clusterCidr"/>; the first of the kubelet's cluster DNS addresses is served on this node
    /// on the link <paramref name="dnsInterface"/> (null, or no address: no DNS served here).
    /// </summary>
    public static NodeAgentOptions Create(KubeletOptions kubelet, string clusterCidr, string? dnsInterface)
    {
        ArgumentNullException.ThrowIfNull(kubelet);
        var clusterDns = kubelet.ClusterDns.Count > 0 ? System.Net.IPAddress.Parse(kubelet.ClusterDns[0]) : null;
        return new NodeAgentOptions
        {
            Kubelet = kubelet,
            Proxy = new ServiceProxyOptions { ClusterCidr = clusterCidr, NodeName = kubelet.ResolvedNodeName },
            Dns = dnsInterface is null || clusterDns is null ? null : new ClusterDnsOptions
            {
                ListenEndpoint = new System.Net.IPEndPoint(clusterDns, 53),
                InterfaceName = dnsInterface,
                ClusterDomain = kubelet.ClusterDomain,
                ResolvConfPath = kubelet.ResolvConf,
            },
        };
    }

    public required ServiceProxyOptions Proxy { get; init; }

    /// <summary>Whether this node enforces NetworkPolicies (in the filter table, beside the proxy's rules).</summary>
    public bool EnforceNetworkPolicies { get; init; } = true;

    /// <summary>Cluster DNS served on this node; null runs none.</summary>
    public ClusterDnsOptions? Dns { get; init; }

    /// <summary>PEM of the CA whose client certificates the kubelet endpoint accepts.</summary>
    public string? ClientCaPem { get; init; }

    /// <summary>A bearer token the kubelet endpoint accepts.</summary>
    public string? EndpointToken { get; init; }
}
