using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Kubesharp.Kubelet.Simulation;

/// <summary>
/// Addresses of simulated nodes: pods take host addresses of the node's <c>spec.podCIDR</c> (assigned by the node
/// IPAM controller), from the second one up; the node's own InternalIP is a loopback address never routed anywhere.
/// </summary>
internal static class PodCidr
{
    /// <summary>The network address and how many pod addresses (.2 up to the one before broadcast) an IPv4 CIDR has.</summary>
    public static bool TryParse(string cidr, out uint network, out int podAddresses)
    {
        network = 0;
        podAddresses = 0;
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(cidr.AsSpan(0, slash), out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(cidr.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix is < 8 or > 30)
        {
            return false;
        }

        var mask = uint.MaxValue << (32 - prefix);
        network = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes()) & mask;
        podAddresses = (int)Math.Min((1L << (32 - prefix)) - 3, 65536);
        return true;
    }

    public static string PodIp(uint network, int host)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, network + (uint)host);
        return new IPAddress(bytes).ToString();
    }

    /// <summary>A loopback address standing for the node's InternalIP (never routed anywhere).</summary>
    public static string NodeIp(int index) => string.Create(CultureInfo.InvariantCulture, $"127.42.{index / 256}.{(index % 256) + 1}");
}
