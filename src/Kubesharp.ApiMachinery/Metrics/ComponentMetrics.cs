using Prometheus;

namespace Kubesharp.ApiMachinery.Metrics;

/// <summary>
/// The process's metrics registry, as upstream's component-base legacy registry: the components that register
/// globally upstream (client-go's work queues, the scheduler) and the process and .NET runtime metrics live here,
/// and every <c>/metrics</c> endpoint of the process serves it after its own registry.
/// </summary>
public static class ComponentMetrics
{
    public static CollectorRegistry Registry { get; } = CreateRegistry();

    public static IMetricFactory Factory { get; } = Prometheus.Metrics.WithCustomRegistry(Registry);

    /// <summary>A registry of one component instance (an API server, a kubelet), with no process metrics.</summary>
    public static CollectorRegistry NewRegistry() => Prometheus.Metrics.NewCustomRegistry();

    private static CollectorRegistry CreateRegistry()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        DotNetStats.Register(registry);
        ProcessStats.Register(registry);
        return registry;
    }
}
