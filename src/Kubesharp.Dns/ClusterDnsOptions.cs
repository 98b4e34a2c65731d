using System.Net;

namespace Kubesharp.Dns;

/// <summary>Where cluster DNS listens, the zone it serves and where everything else goes.</summary>
public sealed class ClusterDnsOptions
{
    /// <summary>The kube-dns Service address, the customary tenth address of the service CIDR.</summary>
    public const string DefaultServiceIp = Kubesharp.ApiMachinery.Networking.ClusterNetworkDefaults.ClusterDnsIp;

    public IPEndPoint ListenEndpoint { get; set; } = new(IPAddress.Parse(DefaultServiceIp), 53);

    /// <summary>
    /// A dummy link the server creates to hold the listen address and deletes when it stops; null when the
    /// address already exists on the node (or is loopback).
    /// </summary>
    public string? InterfaceName { get; set; }

    public string ClusterDomain { get; set; } = "cluster.local";

    /// <summary>Resolvers for names outside the cluster; empty means read <see cref="ResolvConfPath"/>.</summary>
    public IList<IPEndPoint> Upstreams { get; init; } = [];

    public string ResolvConfPath { get; set; } = "/etc/resolv.conf";

    public TimeSpan ForwardTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>TTL of cluster records (CoreDNS's kubernetes plugin uses 5 seconds).</summary>
    public uint Ttl { get; set; } = 5;

    /// <summary>Idle limit of a TCP connection between queries.</summary>
    public TimeSpan TcpIdleTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
