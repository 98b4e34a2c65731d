using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Kubesharp.Kubelet.Nodes;

/// <summary>
/// The address a node is reached at when none is given: the first up, non-loopback IPv4 address of an
/// interface that is not the node's own (pod bridge, veth, DNS link, docker); loopback when there is none.
/// </summary>
public static class DefaultNodeAddress
{
    public static IPAddress Find()
    {
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback
                || nic.Name.StartsWith("veth", StringComparison.Ordinal) || nic.Name.StartsWith("cni", StringComparison.Ordinal)
                || nic.Name.StartsWith("kubesharp", StringComparison.Ordinal) || nic.Name.StartsWith("docker", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var address in nic.GetIPProperties().UnicastAddresses)
            {
                if (address.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(address.Address))
                {
                    return address.Address;
                }
            }
        }

        return IPAddress.Loopback;
    }
}
