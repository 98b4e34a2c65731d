namespace Kubesharp.Kubelet.Network.Overlay;

/// <summary>What the node's overlay set-up yields: the MTU pods must use, and the VXLAN device's MAC (null under host-gw).</summary>
public sealed record OverlayLink(int Mtu, string? VtepMac);
