namespace Kubesharp.Kubelet.Csi;

/// <summary>A CSI driver registered on this node, with what it told the agent when it registered.</summary>
internal sealed record CsiDriver(string Name, CsiDriverClient Client, string NodeId, bool StagesVolumes, bool PublishesToNodes);
