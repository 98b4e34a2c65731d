namespace Kubesharp.Kubelet.Network.Overlay;

/// <summary>How pods on different nodes reach each other (k3s's <c>--flannel-backend</c> values).</summary>
public enum OverlayBackend
{
    /// <summary>Nothing between nodes: pods reach only their own node's pods (or another network provides the rest).</summary>
    None,

    /// <summary>Pod packets travel inside UDP (VXLAN) between the nodes' addresses; works across routed networks.</summary>
    Vxlan,

    /// <summary>Plain routes: each node's pod range goes via that node's address; the nodes must share a layer-2 network.</summary>
    HostGw,
}
