namespace Kubesharp.ApiMachinery.Networking;

/// <summary>
/// The cluster's address plan when nothing is configured, as k3s ships it: pods come from 10.42.0.0/16 (a /24 per
/// node), Services from 10.43.0.0/16, and cluster DNS answers on the tenth address of the service range.
/// </summary>
public static class ClusterNetworkDefaults
{
    /// <summary>The pod network; the node IPAM controller hands each node a slice of it.</summary>
    public const string ClusterCidr = "10.42.0.0/16";

    /// <summary>The prefix length of each node's slice of <see cref="ClusterCidr"/>.</summary>
    public const int NodeCidrMaskSize = 24;

    /// <summary>Where cluster IPs come from; the kubernetes Service takes the first address.</summary>
    public const string ServiceCidr = "10.43.0.0/16";

    /// <summary>The kubernetes Service's cluster IP (the first host address of <see cref="ServiceCidr"/>).</summary>
    public const string KubernetesServiceIp = "10.43.0.1";

    /// <summary>The kube-dns Service's cluster IP (the tenth host address of <see cref="ServiceCidr"/>).</summary>
    public const string ClusterDnsIp = "10.43.0.10";
}
