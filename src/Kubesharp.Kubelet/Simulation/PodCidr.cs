using System.Globalization;

namespace Kubesharp.Kubelet.Simulation;

/// <summary>
/// Node i gets the i-th /24 counted from 10.42.0.0 (10.42.0.0/24, 10.42.1.0/24, … continuing into 10.43.x for
/// more than 256 nodes); pods get .2–.254 of their node's /24.
/// </summary>
internal static class PodCidr
{
    public static string ForNode(int index) => string.Create(CultureInfo.InvariantCulture, $"10.{42 + (index / 256)}.{index % 256}.0/24");

    public static string PodIp(int nodeIndex, int host) => string.Create(CultureInfo.InvariantCulture, $"10.{42 + (nodeIndex / 256)}.{nodeIndex % 256}.{host}");

    /// <summary>A loopback address standing for the node's InternalIP (never routed anywhere).</summary>
    public static string NodeIp(int index) => string.Create(CultureInfo.InvariantCulture, $"127.42.{index / 256}.{(index % 256) + 1}");
}
