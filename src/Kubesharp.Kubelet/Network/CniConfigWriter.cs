using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.Kubelet.Network;

/// <summary>
/// Writes the node's CNI network list: a bridge (gateway on the node, masquerading outbound traffic)
/// with host-local IPAM over the pod CIDR, then portmap for hostPort. The runtime's CRI plugin runs the
/// plugins per sandbox; it sets up each sandbox's loopback itself with the loopback plugin.
/// </summary>
public static class CniConfigWriter
{
    public const string CniVersion = "1.0.0";

    public static string Render(CniNetworkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (network, prefix) = ParseCidr(options.PodCidr);
        if (options.BridgeName.Length is 0 or > 15)
        {
            throw new ArgumentException($"Bridge name '{options.BridgeName}' must be 1 to 15 characters.", nameof(options));
        }

        var range = new JsonObject { ["subnet"] = $"{network}/{prefix}" };
        var ipam = new JsonObject
        {
            ["type"] = "host-local",
            ["ranges"] = new JsonArray(new JsonArray(range)),
            ["routes"] = new JsonArray(new JsonObject { ["dst"] = network.AddressFamily == AddressFamily.InterNetworkV6 ? "::/0" : "0.0.0.0/0" }),
        };
        if (options.IpamDataDir is { } dataDir)
        {
            ipam["dataDir"] = dataDir;
        }

        var bridge = new JsonObject
        {
            ["type"] = "bridge",
            ["bridge"] = options.BridgeName,
            ["isGateway"] = true,
            ["ipMasq"] = options.IpMasq,
            ["hairpinMode"] = options.HairpinMode,
            ["ipam"] = ipam,
        };
        if (options.Mtu > 0)
        {
            bridge["mtu"] = options.Mtu;
        }

        var conflist = new JsonObject
        {
            ["cniVersion"] = CniVersion,
            ["name"] = options.NetworkName,
            ["plugins"] = new JsonArray(
                bridge,
                new JsonObject { ["type"] = "portmap", ["capabilities"] = new JsonObject { ["portMappings"] = true } }),
        };
        return conflist.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Writes the conflist atomically (the runtime watches the directory and must never read half a file).</summary>
    public static string Write(string confDir, CniNetworkOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(confDir);
        Directory.CreateDirectory(confDir);
        var path = Path.Combine(confDir, $"10-{options.NetworkName}.conflist");
        var temp = Path.Combine(confDir, $".{options.NetworkName}.conflist.tmp");
        File.WriteAllText(temp, Render(options));
        File.Move(temp, path, overwrite: true);
        return path;
    }

    /// <summary>Parses "a.b.c.d/n" and returns the network address (host bits cleared) and prefix length.</summary>
    public static (IPAddress Network, int Prefix) ParseCidr(string cidr)
    {
        ArgumentException.ThrowIfNullOrEmpty(cidr);
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(cidr.AsSpan(0, slash), out var address)
            || !int.TryParse(cidr.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix))
        {
            throw new FormatException($"'{cidr}' is not a CIDR.");
        }

        var bytes = address.GetAddressBytes();
        if (prefix < 0 || prefix > bytes.Length * 8)
        {
            throw new FormatException($"'{cidr}' has an invalid prefix length.");
        }

        if (prefix > bytes.Length * 8 - 2)
        {
            throw new FormatException($"'{cidr}' leaves no room for pod addresses.");
        }

        for (var bit = prefix; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return (new IPAddress(bytes), prefix);
    }
}
