namespace Kubesharp.Kubelet.Simulation;

/// <summary>How a deleted pod's simulated containers end.</summary>
public enum SimulatedPodTermination
{
    /// <summary>Like a process that exits on SIGTERM: the pod is removed as soon as its deletion is seen.</summary>
    Prompt,

    /// <summary>Like a process that ignores SIGTERM: the pod is removed when its grace period has passed.</summary>
    Graceful,
}
