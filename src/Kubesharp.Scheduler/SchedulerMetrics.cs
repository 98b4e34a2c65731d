using System.Collections.Concurrent;
using Kubesharp.ApiMachinery.Metrics;
using Kubesharp.Scheduler.Queue;
using Prometheus;

namespace Kubesharp.Scheduler;

/// <summary>
/// Upstream's scheduler metrics in the process registry: attempts by result and profile, their duration (the
/// scheduling cycle through the binding's answer), and the pods waiting in each part of the queue.
/// </summary>
internal sealed class SchedulerMetrics
{
    public const string Scheduled = "scheduled";
    public const string Unschedulable = "unschedulable";
    public const string Error = "error";

    private static readonly Counter Attempts = ComponentMetrics.Factory.CreateCounter("scheduler_schedule_attempts_total", "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.", ["result", "profile"]);
    private static readonly Histogram AttemptDurations = ComponentMetrics.Factory.CreateHistogram("scheduler_scheduling_attempt_duration_seconds", "Scheduling attempt latency in seconds (scheduling algorithm + binding)", new HistogramConfiguration { LabelNames = ["result", "profile"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 15) });
    private static readonly Gauge PendingPods = ComponentMetrics.Factory.CreateGauge("scheduler_pending_pods", "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.", ["queue"]);

    // The queues of the schedulers running in this process, summed when scraped.
    private static readonly ConcurrentDictionary<SchedulingQueue, byte> Queues = new();

    static SchedulerMetrics()
    {
        ComponentMetrics.Registry.AddBeforeCollectCallback(() =>
        {
            int active = 0, backoff = 0, unschedulable = 0;
            foreach (var queue in Queues.Keys)
            {
                active += queue.ActiveCount;
                backoff += queue.BackoffCount;
                unschedulable += queue.UnschedulableCount;
            }

            PendingPods.WithLabels("active").Set(active);
            PendingPods.WithLabels("backoff").Set(backoff);
            PendingPods.WithLabels("unschedulable").Set(unschedulable);
            PendingPods.WithLabels("gated").Set(0);
        });
    }

    private readonly (Counter.Child Total, Histogram.Child Duration) _scheduled;
    private readonly (Counter.Child Total, Histogram.Child Duration) _unschedulable;
    private readonly (Counter.Child Total, Histogram.Child Duration) _error;

    public SchedulerMetrics(string profile)
    {
        _scheduled = (Attempts.WithLabels(Scheduled, profile), AttemptDurations.WithLabels(Scheduled, profile));
        _unschedulable = (Attempts.WithLabels(Unschedulable, profile), AttemptDurations.WithLabels(Unschedulable, profile));
        _error = (Attempts.WithLabels(Error, profile), AttemptDurations.WithLabels(Error, profile));
    }

    public void Attempted(string result, TimeSpan duration)
    {
        var series = result switch
        {
            Scheduled => _scheduled,
            Unschedulable => _unschedulable,
            _ => _error,
        };
        series.Total.Inc();
        series.Duration.Observe(duration.TotalSeconds);
    }

    public static void Watch(SchedulingQueue queue) => Queues.TryAdd(queue, 0);

    public static void Forget(SchedulingQueue queue) => Queues.TryRemove(queue, out _);
}
