namespace Kubesharp.Kubelet.Simulation;

/// <summary>How many simulated nodes to serve and what each one offers.</summary>
public sealed record SimulatedNodeOptions
{
    public const string TaintKey = "kubesharp.io/simulated";

    /// <summary>
    /// Pod annotation choosing how the pod's simulated containers end: <c>prompt</c> or <c>graceful</c>
    /// (see <see cref="SimulatedPodTermination"/>); overrides <see cref="Termination"/> for that pod.
    /// </summary>
    public const string TerminationAnnotation = "kubesharp.io/simulated-termination";

    public int Count { get; init; }

    public string NamePrefix { get; init; } = "sim-node-";

    public string Cpu { get; init; } = "32";

    public string Memory { get; init; } = "256Gi";

    public int Pods { get; init; } = 110;

    public string EphemeralStorage { get; init; } = "100Gi";

    /// <summary>Extra capacity such as nvidia.com/gpu=8.</summary>
    public IReadOnlyDictionary<string, string> ExtendedResources { get; init; } = new Dictionary<string, string>();

    /// <summary>Carry <c>kubesharp.io/simulated=true:NoSchedule</c> so only tolerating pods land here.</summary>
    public bool Taint { get; init; } = true;

    /// <summary>Lease renewal interval in kube-node-lease (upstream's kubelet renews every 10 s).</summary>
    public TimeSpan LeaseRenewInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Lease duration written on the node leases (upstream's 40 s).</summary>
    public int LeaseDurationSeconds { get; init; } = 40;

    /// <summary>How often an unchanged node status is reported (upstream's 5 min).</summary>
    public TimeSpan StatusReportInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Concurrent requests while registering nodes and renewing leases.</summary>
    public int Concurrency { get; init; } = 16;

    /// <summary>Turn bound pods Running and complete deletions; off leaves pods as bound (scheduler benchmarks).</summary>
    public bool ServePods { get; init; } = true;

    /// <summary>How deleted pods end unless their <see cref="TerminationAnnotation"/> says otherwise.</summary>
    public SimulatedPodTermination Termination { get; init; } = SimulatedPodTermination.Prompt;

    /// <summary>Pod status workers.</summary>
    public int PodWorkers { get; init; } = 4;
}
