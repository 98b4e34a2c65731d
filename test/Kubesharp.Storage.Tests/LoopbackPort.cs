using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Kubesharp.Storage.Tests;

/// <summary>Loopback ports for the servers the tests start as processes of their own (etcd, kubesharp, a registry).</summary>
public static class LoopbackPort
{
    private const string EphemeralRangeFile = "/proc/sys/net/ipv4/ip_local_port_range";

    /// <summary>
    /// A loopback port free at the moment of asking, below the kernel's ephemeral range. A port from that range can be
    /// taken by any outgoing connection of the machine between this choice and the bind of the process it is given to
    /// (or while a server that had it restarts on it); the kernel never picks a port below the range by itself.
    /// </summary>
    public static int Free()
    {
        var ephemeralStart = 32768;
        if (File.Exists(EphemeralRangeFile)
            && int.TryParse(File.ReadAllText(EphemeralRangeFile).Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture, out var start))
        {
            ephemeralStart = start;
        }

        for (var attempt = 0; attempt < 200 && ephemeralStart > 12000; attempt++)
        {
            var port = Random.Shared.Next(10000, ephemeralStart);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
