using System.Buffers.Binary;
using System.Collections;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Kubesharp.ControllerManager.NodeIpam;

/// <summary>
/// The node-sized slices of an IPv4 cluster CIDR and which of them are taken. Allocation goes round from the slice
/// after the last one handed out, so a range freed by a deleted node is not given to the next node at once.
/// Not thread-safe: the controller owns it from one worker.
/// </summary>
internal sealed class CidrSet
{
    /// <summary>Upstream refuses more than 2^16 node slices per cluster CIDR.</summary>
    public const int MaxMaskBits = 16;

    private readonly uint network;
    private readonly int clusterPrefix;
    private readonly BitArray used;
    private int next;

    private CidrSet(uint network, int clusterPrefix, int nodeMaskSize)
    {
        this.network = network;
        this.clusterPrefix = clusterPrefix;
        NodeMaskSize = nodeMaskSize;
        used = new BitArray(1 << (nodeMaskSize - clusterPrefix));
    }

    public int NodeMaskSize { get; }

    /// <summary>How many node slices the cluster CIDR holds.</summary>
    public int Capacity => used.Length;

    /// <summary>How many are taken.</summary>
    public int Allocated { get; private set; }

    /// <summary>Parses "10.42.0.0/16" and a node mask size such as 24; throws <see cref="FormatException"/> on a bad pair.</summary>
    public static CidrSet Create(string clusterCidr, int nodeMaskSize)
    {
        if (!TryParse(clusterCidr, out var network, out var prefix))
        {
            throw new FormatException($"'{clusterCidr}' is not an IPv4 CIDR such as 10.42.0.0/16.");
        }

        if (nodeMaskSize < prefix || nodeMaskSize > 30)
        {
            throw new FormatException($"the node CIDR mask size {nodeMaskSize} must be between the cluster CIDR's prefix length {prefix} and 30.");
        }

        if (nodeMaskSize - prefix > MaxMaskBits)
        {
            throw new FormatException($"the node CIDR mask size {nodeMaskSize} is more than {MaxMaskBits} bits longer than the cluster CIDR's prefix length {prefix}.");
        }

        return new CidrSet(network, prefix, nodeMaskSize);
    }

    /// <summary>The next free slice, or null when every one is taken.</summary>
    public string? Allocate()
    {
        for (var i = 0; i < used.Length; i++)
        {
            var candidate = (next + i) % used.Length;
            if (!used[candidate])
            {
                used[candidate] = true;
                Allocated++;
                next = (candidate + 1) % used.Length;
                return Format(candidate);
            }
        }

        return null;
    }

    /// <summary>Marks a slice taken (a node that already has it); false when it is not one of this set's slices.</summary>
    public bool Occupy(string cidr)
    {
        if (IndexOf(cidr) is not { } index)
        {
            return false;
        }

        if (!used[index])
        {
            used[index] = true;
            Allocated++;
        }

        return true;
    }

    /// <summary>Frees a slice; false when it is not one of this set's slices.</summary>
    public bool Release(string cidr)
    {
        if (IndexOf(cidr) is not { } index)
        {
            return false;
        }

        if (used[index])
        {
            used[index] = false;
            Allocated--;
        }

        return true;
    }

    private int? IndexOf(string cidr)
    {
        if (!TryParse(cidr, out var address, out var prefix) || prefix != NodeMaskSize)
        {
            return null;
        }

        var clusterMask = clusterPrefix == 0 ? 0u : uint.MaxValue << (32 - clusterPrefix);
        if ((address & clusterMask) != network)
        {
            return null;
        }

        return (int)((address - network) >> (32 - NodeMaskSize));
    }

    private string Format(int index)
    {
        var address = network + ((uint)index << (32 - NodeMaskSize));
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, address);
        return string.Create(CultureInfo.InvariantCulture, $"{new IPAddress(bytes)}/{NodeMaskSize}");
    }

    /// <summary>The network address (host bits cleared) and prefix length of an IPv4 CIDR.</summary>
    private static bool TryParse(string text, out uint network, out int prefix)
    {
        network = 0;
        prefix = 0;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > 32)
        {
            return false;
        }

        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        network = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes()) & mask;
        return true;
    }
}
