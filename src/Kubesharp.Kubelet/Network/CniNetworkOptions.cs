namespace Kubesharp.Kubelet.Network;

/// <summary>The pod network of one node: a bridge with host-local addresses from the node's podCIDR.</summary>
public sealed class CniNetworkOptions
{
    public const string DefaultNetworkName = "kubesharp";
    public const string DefaultBridgeName = "kubesharp0";

    /// <summary>The node's pod CIDR, e.g. "10.42.0.0/24".</summary>
    public required string PodCidr { get; init; }

    public string NetworkName { get; init; } = DefaultNetworkName;

    /// <summary>Linux interface names are at most 15 characters.</summary>
    public string BridgeName { get; init; } = DefaultBridgeName;

    /// <summary>Where host-local keeps its allocations; null uses the plugin's default (/var/lib/cni/networks).</summary>
    public string? IpamDataDir { get; init; }

    public int Mtu { get; init; }

    public bool HairpinMode { get; init; } = true;

    public bool IpMasq { get; init; } = true;
}
