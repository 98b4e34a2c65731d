using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Kubesharp.Proxy.NetworkPolicies;

/// <summary>
/// An IPv4 prefix. An ipBlock's <c>except</c> list is subtracted up front into disjoint prefixes, so each becomes
/// one plain iptables match instead of a chain of negations.
/// </summary>
public readonly record struct Ipv4Block(uint Address, int PrefixLength)
{
    public static bool TryParse(string? text, out Ipv4Block block)
    {
        block = default;
        if (text is null || text.Split('/') is not [var address, var length] ||
            !IPAddress.TryParse(address, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork ||
            !int.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix > 32)
        {
            return false;
        }

        block = new Ipv4Block(ToUInt32(ip) & Mask(prefix), prefix);
        return true;
    }

    public static uint ToUInt32(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var bytes = address.GetAddressBytes();
        return ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3];
    }

    public bool Contains(uint address) => (address & Mask(PrefixLength)) == Address;

    public bool Contains(Ipv4Block other) => other.PrefixLength >= PrefixLength && Contains(other.Address);

    /// <summary>This block without every one of <paramref name="excluded"/>, as disjoint prefixes in address order.</summary>
    public IReadOnlyList<Ipv4Block> Except(IEnumerable<Ipv4Block> excluded)
    {
        ArgumentNullException.ThrowIfNull(excluded);
        var remaining = new List<Ipv4Block> { this };
        foreach (var hole in excluded)
        {
            var next = new List<Ipv4Block>();
            foreach (var block in remaining)
            {
                block.Subtract(hole, next);
            }

            remaining = next;
        }

        return [.. remaining.OrderBy(b => b.Address)];
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Address >> 24}.{(Address >> 16) & 255}.{(Address >> 8) & 255}.{Address & 255}/{PrefixLength}");

    private void Subtract(Ipv4Block hole, List<Ipv4Block> into)
    {
        if (hole.Contains(this))
        {
            return;
        }

        if (!Contains(hole))
        {
            into.Add(this);
            return;
        }

        // Split in halves until the hole is reached: the half without it stays whole.
        var half = PrefixLength + 1;
        var low = new Ipv4Block(Address, half);
        var high = new Ipv4Block(Address | (1u << (32 - half)), half);
        low.Subtract(hole, into);
        high.Subtract(hole, into);
    }

    private static uint Mask(int prefixLength) => prefixLength == 0 ? 0 : uint.MaxValue << (32 - prefixLength);
}
