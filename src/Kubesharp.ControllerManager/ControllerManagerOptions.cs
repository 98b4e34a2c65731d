namespace Kubesharp.ControllerManager;

/// <summary>Settings of the controller manager, with upstream's defaults.</summary>
public sealed class ControllerManagerOptions
{
    /// <summary>Identity in the leader election Lease (defaults to host name plus a random suffix).</summary>
    public string? Identity { get; init; }

    /// <summary>Run only while holding the kube-system/kube-controller-manager Lease.</summary>
    public bool LeaderElect { get; init; } = true;

    public int ReplicaSetWorkers { get; init; } = 5;

    public int DeploymentWorkers { get; init; } = 5;

    public int StatefulSetWorkers { get; init; } = 5;

    public int DaemonSetWorkers { get; init; } = 2;

    public int JobWorkers { get; init; } = 5;

    public int CronJobWorkers { get; init; } = 5;

    /// <summary>Sync period, stabilization and tolerance of the HorizontalPodAutoscaler controller.</summary>
    public HorizontalPodAutoscalers.HorizontalPodAutoscalerOptions HorizontalPodAutoscaler { get; init; } = new();

    public int GarbageCollectorWorkers { get; init; } = 20;

    public int NamespaceWorkers { get; init; } = 10;

    /// <summary>Workers binding claims and volumes (one queue for both).</summary>
    public int PersistentVolumeWorkers { get; init; } = 5;

    /// <summary>Workers of the attach/detach controller (keyed by node).</summary>
    public int AttachDetachWorkers { get; init; } = 2;

    /// <summary>Workers of the EndpointSlice controller and of the Endpoints controller, each.</summary>
    public int EndpointWorkers { get; init; } = 5;

    /// <summary>How long a node may go without a heartbeat before it is considered unreachable.</summary>
    public TimeSpan NodeMonitorGracePeriod { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>How often node health is checked.</summary>
    public TimeSpan NodeMonitorPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Terminated pods beyond this count are deleted, oldest first.</summary>
    public int TerminatedPodGcThreshold { get; init; } = 12500;

    /// <summary>How often the pod garbage collector runs.</summary>
    public TimeSpan PodGcPeriod { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Informer resync period (0 disables resyncs).</summary>
    public TimeSpan ResyncPeriod { get; init; }

    /// <summary>The cluster CA (PEM) published in every namespace as the kube-root-ca.crt ConfigMap; none is published when null.</summary>
    public string? RootCaPem { get; init; }

    /// <summary>The CA (PEM certificate and key) the csrsigning controller issues certificates with; no signing without it.</summary>
    public string? ClusterSigningCertificatePem { get; init; }

    public string? ClusterSigningKeyPem { get; init; }

    /// <summary>The longest lifetime of an issued certificate (upstream's --cluster-signing-duration, one year).</summary>
    public TimeSpan ClusterSigningDuration { get; init; } = TimeSpan.FromDays(365);

    /// <summary>Whether the node IPAM controller gives each Node a pod CIDR from <see cref="ClusterCidr"/>.</summary>
    public bool AllocateNodeCidrs { get; init; } = true;

    /// <summary>The pod network nodes' pod CIDRs are sliced from.</summary>
    public string ClusterCidr { get; init; } = ApiMachinery.Networking.ClusterNetworkDefaults.ClusterCidr;

    /// <summary>The prefix length of each node's pod CIDR.</summary>
    public int NodeCidrMaskSize { get; init; } = ApiMachinery.Networking.ClusterNetworkDefaults.NodeCidrMaskSize;

    /// <summary>Why <see cref="ClusterCidr"/> and <see cref="NodeCidrMaskSize"/> do not make node pod CIDRs; null when they do.</summary>
    public string? NodeCidrError()
    {
        try
        {
            NodeIpam.CidrSet.Create(ClusterCidr, NodeCidrMaskSize);
            return null;
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }

    /// <summary>How many nodes the cluster CIDR gives a pod CIDR to (valid options only).</summary>
    public int NodeCidrCapacity() => NodeIpam.CidrSet.Create(ClusterCidr, NodeCidrMaskSize).Capacity;

    /// <summary>Called once the controllers' informers have listed (each time this process starts leading).</summary>
    public Action? InformersSynced { get; init; }
}
