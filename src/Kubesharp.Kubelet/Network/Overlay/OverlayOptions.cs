namespace Kubesharp.Kubelet.Network.Overlay;

/// <summary>The node's part of the pod network between nodes.</summary>
public sealed record OverlayOptions
{
    /// <summary>Node annotations that tell the other nodes how to reach this one's pods.</summary>
    public const string BackendTypeAnnotation = "kubesharp.io/backend-type";

    /// <summary>JSON with the VXLAN id and this node's tunnel endpoint MAC (<c>{"VNI":1,"VtepMAC":"…"}</c>).</summary>
    public const string BackendDataAnnotation = "kubesharp.io/backend-data";

    /// <summary>The address the other nodes send this node's pod traffic to.</summary>
    public const string PublicIpAnnotation = "kubesharp.io/public-ip";

    public const string DefaultDeviceName = "kubesharp.1";

    /// <summary>Set apart from the service proxy's <c>KUBESHARP-</c> chains, which the proxy removes when it stops.</summary>
    public const string DefaultChainPrefix = "KUBESHARPNET";

    /// <summary>The Linux VXLAN port (flannel's default), not IANA's 4789.</summary>
    public const int DefaultPort = 8472;

    /// <summary>VXLAN's outer IPv4, UDP and VXLAN headers plus the inner Ethernet header.</summary>
    public const int VxlanOverhead = 50;

    /// <summary>Marks the routes this node adds for other nodes' pod ranges, so they can be found and removed again.</summary>
    public const int RouteProtocol = 75;

    public OverlayBackend Backend { get; init; } = OverlayBackend.Vxlan;

    /// <summary>The cluster's pod network: traffic leaving it is masqueraded, traffic inside it is not.</summary>
    public required string ClusterCidr { get; init; }

    /// <summary>The VXLAN device (15 characters at most).</summary>
    public string DeviceName { get; init; } = DefaultDeviceName;

    public int Vni { get; init; } = 1;

    public int Port { get; init; } = DefaultPort;

    /// <summary>Prefix of the iptables chains for masquerading and forwarding pod traffic.</summary>
    public string ChainPrefix { get; init; } = DefaultChainPrefix;

    /// <summary>
    /// Runs <c>ip</c>, <c>bridge</c> and <c>iptables</c> behind this prefix (<c>ip netns exec NAME</c> programs a
    /// node held in a network namespace); empty programs the host.
    /// </summary>
    public IReadOnlyList<string> CommandPrefix { get; init; } = [];

    public string MasqueradeChain => ChainPrefix + "-MASQ";

    public string ForwardChain => ChainPrefix + "-FWD";
}
