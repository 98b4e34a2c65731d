namespace Kubesharp.ControllerManager.HorizontalPodAutoscalers;

/// <summary>The HorizontalPodAutoscaler controller's settings, with upstream's defaults (kube-controller-manager's flags).</summary>
public sealed record HorizontalPodAutoscalerOptions
{
    /// <summary>How often every autoscaler is evaluated (--horizontal-pod-autoscaler-sync-period).</summary>
    public TimeSpan SyncPeriod { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How far back scale-down recommendations count for autoscalers without behavior (--horizontal-pod-autoscaler-downscale-stabilization).</summary>
    public TimeSpan DownscaleStabilizationWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Usage within this fraction of the target changes nothing (--horizontal-pod-autoscaler-tolerance).</summary>
    public double Tolerance { get; init; } = 0.1;

    /// <summary>--horizontal-pod-autoscaler-cpu-initialization-period.</summary>
    public TimeSpan CpuInitializationPeriod { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>--horizontal-pod-autoscaler-initial-readiness-delay.</summary>
    public TimeSpan InitialReadinessDelay { get; init; } = TimeSpan.FromSeconds(30);

    public int Workers { get; init; } = 5;
}
