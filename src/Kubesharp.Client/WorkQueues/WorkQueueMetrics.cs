using Kubesharp.ApiMachinery.Metrics;
using Prometheus;

namespace Kubesharp.Client.WorkQueues;

/// <summary>
/// client-go's work queue metrics of one named queue, registered in the process registry as upstream's global
/// provider does: adds, depth, time queued, time in work and retries.
/// </summary>
public sealed class WorkQueueMetrics
{
    // Upstream's buckets: 10 ns to 10 s by powers of ten.
    private static readonly double[] DurationBuckets = Histogram.ExponentialBuckets(10e-9, 10, 10);

    private static readonly Counter Adds = ComponentMetrics.Factory.CreateCounter("workqueue_adds_total", "Total number of adds handled by workqueue", ["name"]);
    private static readonly Gauge Depths = ComponentMetrics.Factory.CreateGauge("workqueue_depth", "Current depth of workqueue", ["name"]);
    private static readonly Histogram QueueDurations = ComponentMetrics.Factory.CreateHistogram("workqueue_queue_duration_seconds", "How long in seconds an item stays in workqueue before being requested.", new HistogramConfiguration { LabelNames = ["name"], Buckets = DurationBuckets });
    private static readonly Histogram WorkDurations = ComponentMetrics.Factory.CreateHistogram("workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes.", new HistogramConfiguration { LabelNames = ["name"], Buckets = DurationBuckets });
    private static readonly Counter Retries = ComponentMetrics.Factory.CreateCounter("workqueue_retries_total", "Total number of retries handled by workqueue", ["name"]);

    internal WorkQueueMetrics(string name)
    {
        Name = name;
        AddsTotal = Adds.WithLabels(name);
        Depth = Depths.WithLabels(name);
        QueueDuration = QueueDurations.WithLabels(name);
        WorkDuration = WorkDurations.WithLabels(name);
        RetriesTotal = Retries.WithLabels(name);
    }

    public string Name { get; }

    internal Counter.Child AddsTotal { get; }

    internal Gauge.Child Depth { get; }

    internal Histogram.Child QueueDuration { get; }

    internal Histogram.Child WorkDuration { get; }

    internal Counter.Child RetriesTotal { get; }
}
