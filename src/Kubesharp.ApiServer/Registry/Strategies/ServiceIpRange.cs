using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// The IPv4 service CIDR cluster IPs come from. The first host address is the kubernetes Service's; the tenth
/// is customarily cluster DNS; dynamic allocation starts above that.
/// </summary>
public sealed class ServiceIpRange
{
    /// <summary>Upstream refuses ranges of more than 2^20 addresses.</summary>
    public const int MinPrefixLength = 12;

    public const int MaxPrefixLength = 28;

    private readonly uint network;

    private ServiceIpRange(uint network, int prefixLength)
    {
        this.network = network;
        PrefixLength = prefixLength;
    }

    public static ServiceIpRange Default { get; } = Parse(Kubesharp.ApiMachinery.Networking.ClusterNetworkDefaults.ServiceCidr);

    public int PrefixLength { get; }

    /// <summary>Addresses in the range, network and broadcast included.</summary>
    public uint Size => 1u << (32 - PrefixLength);

    /// <summary>The kubernetes Service's address (the first host address).</summary>
    public IPAddress KubernetesServiceIp => Address(1);

    /// <summary>The cluster DNS address (the tenth host address).</summary>
    public IPAddress DnsServiceIp => Address(10);

    public static ServiceIpRange Parse(string cidr)
    {
        ArgumentException.ThrowIfNullOrEmpty(cidr);
        var parts = cidr.Split('/');
        if (parts.Length != 2 || !IPAddress.TryParse(parts[0], out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix))
        {
            throw new FormatException($"'{cidr}' is not an IPv4 CIDR such as 10.43.0.0/16.");
        }

        if (prefix is < MinPrefixLength or > MaxPrefixLength)
        {
            throw new FormatException($"'{cidr}': the prefix length must be between {MinPrefixLength} and {MaxPrefixLength}.");
        }

        var value = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());
        var mask = uint.MaxValue << (32 - prefix);
        return new ServiceIpRange(value & mask, prefix);
    }

    public IPAddress Address(uint offset)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, network + offset);
        return new IPAddress(bytes);
    }

    public bool Contains(string ip) =>
        IPAddress.TryParse(ip, out var address) && address.AddressFamily == AddressFamily.InterNetwork
        && (BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes()) & (uint.MaxValue << (32 - PrefixLength))) == network;

    public override string ToString() => $"{Address(0)}/{PrefixLength}";
}
