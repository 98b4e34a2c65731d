namespace Kubesharp.Kubelet.Pods;

/// <summary>
/// The labels and annotations the agent puts on sandboxes and containers. They are what lets a restarted
/// agent find its pods in the runtime again (the same keys upstream uses, so tools like crictl show them).
/// </summary>
internal static class CriLabels
{
    public const string PodName = "io.kubernetes.pod.name";
    public const string PodNamespace = "io.kubernetes.pod.namespace";
    public const string PodUid = "io.kubernetes.pod.uid";
    public const string ContainerName = "io.kubernetes.container.name";

    /// <summary>Marks objects created by this agent, so a shared runtime's other sandboxes are left alone.</summary>
    public const string ManagedBy = "io.kubesharp.managed";

    public const string ContainerHash = "io.kubernetes.container.hash";
    public const string RestartCount = "io.kubernetes.container.restartCount";
    public const string TerminationMessagePath = "io.kubernetes.container.terminationMessagePath";
    public const string TerminationMessageHostPath = "io.kubesharp.container.terminationMessageHostPath";
    public const string TerminationMessagePolicy = "io.kubernetes.container.terminationMessagePolicy";
    public const string TerminationGracePeriod = "io.kubernetes.pod.terminationGracePeriod";
    public const string InitContainer = "io.kubesharp.container.init";
}
