using Kubesharp.Kubelet.Runtime;

namespace Kubesharp.Kubelet;

/// <summary>What a node agent needs: who it is, where it keeps its files, which runtime and pod network it uses.</summary>
public sealed class KubeletOptions
{
    /// <summary>The Node's name; null uses the machine's host name.</summary>
    public string? NodeName { get; init; }

    /// <summary>The agent's data directory (pods, volumes, logs, containerd, CNI state).</summary>
    public required string DataDir { get; init; }

    /// <summary>
    /// The node's pod CIDR ("10.42.0.0/24"); the CNI network hands out addresses from it. Null (the default) takes the
    /// one the node IPAM controller writes into the Node's <c>spec.podCIDR</c>.
    /// </summary>
    public string? PodCidr { get; init; }

    /// <summary>The node's InternalIP; null picks the first non-loopback IPv4 address (loopback when none).</summary>
    public string? NodeIp { get; init; }

    /// <summary>The runtime: the agent's own containerd (default) or an existing CRI endpoint.</summary>
    public ContainerRuntimeOptions? ContainerRuntime { get; init; }

    /// <summary>HTTPS port of the agent's endpoint (logs, exec); 0 picks a free port.</summary>
    public int KubeletPort { get; init; } = 10250;

    public int MaxPods { get; init; } = 110;

    /// <summary>How many pods are synced at once.</summary>
    public int PodWorkers { get; init; } = 16;

    /// <summary>How often the node's Lease is renewed.</summary>
    public TimeSpan LeaseRenewInterval { get; init; } = TimeSpan.FromSeconds(10);

    public int LeaseDurationSeconds { get; init; } = 40;

    /// <summary>How often the Node's status is written even when nothing changed.</summary>
    public TimeSpan NodeStatusReportFrequency { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the runtime is listed to notice containers that changed state (the pod lifecycle event generator).</summary>
    public TimeSpan RelistPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>First delay before restarting a crashed container; doubles up to <see cref="MaxBackOff"/>.</summary>
    public TimeSpan InitialBackOff { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxBackOff { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The CNI bridge's name (15 characters at most).</summary>
    public string BridgeName { get; init; } = Network.CniNetworkOptions.DefaultBridgeName;

    public string NetworkName { get; init; } = Network.CniNetworkOptions.DefaultNetworkName;

    /// <summary>How this node's pods reach other nodes' pods (VXLAN, host-gw); null (or backend none) sets up nothing.</summary>
    public Network.Overlay.OverlayOptions? Overlay { get; init; }

    /// <summary>Cluster DNS servers written into pods' resolv.conf; empty copies nothing.</summary>
    public IReadOnlyList<string> ClusterDns { get; init; } = [];

    public string ClusterDomain { get; init; } = "cluster.local";

    /// <summary>The node's resolver file: pods with dnsPolicy Default get its servers, ClusterFirst pods its search paths.</summary>
    public string ResolvConf { get; init; } = "/etc/resolv.conf";

    public string ResolvedNodeName => string.IsNullOrEmpty(NodeName) ? Environment.MachineName.ToLowerInvariant() : NodeName;

    public string PodsDir => Path.Combine(DataDir, "pods");

    /// <summary>Image archives put here are imported into the node's containerd (air-gap images).</summary>
    public string ImagesDir => Path.Combine(DataDir, "images");

    /// <summary>Where the local-path provisioner puts volume directories; null means DATA/storage.</summary>
    public string? LocalStorageDir { get; init; }

    public string ResolvedLocalStorageDir => LocalStorageDir ?? Path.Combine(DataDir, "storage");

    public string PodLogsDir => Path.Combine(DataDir, "pod-logs");

    /// <summary>Where device plugins find the agent's Registration socket (kubelet.sock) and put their own; null means DATA/device-plugins.</summary>
    public string? DevicePluginsDir { get; init; }

    public string ResolvedDevicePluginsDir => DevicePluginsDir ?? Path.Combine(DataDir, "device-plugins");

    /// <summary>The pod resources API's socket; null means DATA/pod-resources/kubelet.sock.</summary>
    public string? PodResourcesSocket { get; init; }

    public string ResolvedPodResourcesSocket => PodResourcesSocket ?? Path.Combine(DataDir, "pod-resources", "kubelet.sock");

    /// <summary>Where CSI drivers' registrars put their registration sockets (upstream's plugins_registry).</summary>
    public string PluginsRegistryDir => Path.Combine(DataDir, "plugins_registry");

    /// <summary>Plugin state: CSI volumes are staged under DATA/plugins/kubernetes.io/csi (upstream's layout).</summary>
    public string PluginsDir => Path.Combine(DataDir, "plugins");
}
