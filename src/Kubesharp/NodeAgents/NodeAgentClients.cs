using Kubesharp.Client;

namespace Kubesharp.NodeAgents;

/// <summary>
/// The API clients of a node's parts: the kubelet's (system:node:NAME), the service proxy's, cluster DNS's and the
/// local-path provisioner's, and the CSI attacher's.
/// </summary>
internal sealed record NodeAgentClients(KubernetesClient Kubelet, KubernetesClient Proxy, KubernetesClient Dns, KubernetesClient Provisioner, KubernetesClient Attacher);
