using System.Net;

namespace Kubesharp.Kubelet.Network.Overlay;

/// <summary>Another node as the overlay sees it: where its pods live and how to reach them.</summary>
/// <param name="VtepMac">The node's VXLAN device MAC; null under host-gw.</param>
public sealed record OverlayPeer(string NodeName, IPAddress NodeIp, string PodCidr, string? VtepMac)
{
    /// <summary>The peer's VXLAN device holds the first address of its pod range, the next hop for it.</summary>
    public IPAddress Gateway => CniConfigWriter.ParseCidr(PodCidr).Network;
}
