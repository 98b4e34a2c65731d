using System.Net;
using System.Net.Sockets;

namespace Kubesharp.Bench.Ha;

/// <summary>Ports the OS hands out on loopback; each asked for once.</summary>
internal static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
