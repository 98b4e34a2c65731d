namespace Kubesharp.Kubelet.Runtime;

/// <summary>Which CRI runtime the agent uses: its own containerd, or an existing one.</summary>
public sealed class ContainerRuntimeOptions
{
    /// <summary>An existing CRI endpoint ("unix:///run/containerd/containerd.sock"); when null the agent runs containerd itself.</summary>
    public string? ContainerRuntimeEndpoint { get; init; }

    /// <summary>Settings for the agent's own containerd (used when no endpoint is given).</summary>
    public ContainerdOptions? Containerd { get; init; }
}
