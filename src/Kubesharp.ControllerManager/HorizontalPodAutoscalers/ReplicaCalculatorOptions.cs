namespace Kubesharp.ControllerManager.HorizontalPodAutoscalers;

/// <summary>How long after a pod starts its CPU samples are doubted (upstream's 5 min and 30 s flags).</summary>
internal sealed record ReplicaCalculatorOptions
{
    /// <summary>While a pod is this young, a CPU sample counts only once it covers a full window of readiness.</summary>
    public TimeSpan CpuInitializationPeriod { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A pod not ready within this time of starting is taken as never having been ready.</summary>
    public TimeSpan InitialReadinessDelay { get; init; } = TimeSpan.FromSeconds(30);
}
