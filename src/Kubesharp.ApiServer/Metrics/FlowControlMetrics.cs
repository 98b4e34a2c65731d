using System.Collections.Concurrent;
using Prometheus;

namespace Kubesharp.ApiServer.Metrics;

/// <summary>
/// API Priority and Fairness as upstream's apiserver_flowcontrol_* families: requests dispatched and rejected (with
/// the reason), how long each waited for a seat, how many wait and run now and the seats they hold per flow schema and
/// priority level, the seats each request was estimated to need, and each level's nominal seats. A request's series are resolved once per schema and level pair.
/// </summary>
internal sealed class FlowControlMetrics
{
    // Seconds; a request waits at most 15 s before it is rejected.
    private static readonly double[] WaitBuckets = [0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];
    private static readonly string[] Labels = ["flow_schema", "priority_level"];
    private static readonly double[] SeatBuckets = [1, 2, 4, 10];

    private readonly Counter _dispatched;
    private readonly Counter _rejected;
    private readonly Histogram _waits;
    private readonly Gauge _waiting;
    private readonly Gauge _executing;
    private readonly Gauge _executingSeats;
    private readonly Histogram _estimatedSeats;
    private readonly Gauge _nominalSeats;
    private readonly ConcurrentDictionary<(string Schema, string Level), Series> _series = new();

    public FlowControlMetrics(CollectorRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _dispatched = factory.CreateCounter("apiserver_flowcontrol_dispatched_requests_total", "Requests that got a seat, by flow schema and priority level.", Labels);
        _rejected = factory.CreateCounter("apiserver_flowcontrol_rejected_requests_total", "Requests answered 429 by flow control, by flow schema, priority level and reason.", [.. Labels, "reason"]);
        _waits = factory.CreateHistogram("apiserver_flowcontrol_request_wait_duration_seconds", "Seconds a request waited for a seat; execute says whether it then ran.", new HistogramConfiguration { LabelNames = [.. Labels, "execute"], Buckets = WaitBuckets });
        _waiting = factory.CreateGauge("apiserver_flowcontrol_current_inqueue_requests", "Requests waiting for a seat now.", Labels);
        _executing = factory.CreateGauge("apiserver_flowcontrol_current_executing_requests", "Requests holding a seat now.", Labels);
        _executingSeats = factory.CreateGauge("apiserver_flowcontrol_current_executing_seats", "Seats the running requests hold now.", Labels);
        _estimatedSeats = factory.CreateHistogram("apiserver_flowcontrol_work_estimated_seats", "Seats each request was estimated to need.", new HistogramConfiguration { LabelNames = Labels, Buckets = SeatBuckets });
        _nominalSeats = factory.CreateGauge("apiserver_flowcontrol_nominal_limit_seats", "Seats a priority level may fill at once, its share of the server's limit.", ["priority_level"]);
    }

    public Series For(string schema, string level) =>
        _series.TryGetValue((schema, level), out var series) ? series : _series.GetOrAdd((schema, level), key => new Series(this, key.Schema, key.Level));

    /// <summary>Reads the levels' nominal seats when scraped.</summary>
    public void ReportLevels(CollectorRegistry registry, Func<IEnumerable<(string Level, int Seats)>> levels) =>
        registry.AddBeforeCollectCallback(() =>
        {
            foreach (var (level, seats) in levels())
            {
                _nominalSeats.WithLabels(level).Set(seats);
            }
        });

    /// <summary>The series of one flow schema and priority level.</summary>
    public sealed class Series(FlowControlMetrics metrics, string schema, string level)
    {
        public Counter.Child Dispatched { get; } = metrics._dispatched.WithLabels(schema, level);

        public Gauge.Child Waiting { get; } = metrics._waiting.WithLabels(schema, level);

        public Gauge.Child Executing { get; } = metrics._executing.WithLabels(schema, level);

        public Gauge.Child ExecutingSeats { get; } = metrics._executingSeats.WithLabels(schema, level);

        public Histogram.Child EstimatedSeats { get; } = metrics._estimatedSeats.WithLabels(schema, level);

        public Histogram.Child WaitedAndRan { get; } = metrics._waits.WithLabels(schema, level, "true");

        public Histogram.Child WaitedAndRejected { get; } = metrics._waits.WithLabels(schema, level, "false");

        /// <summary>Reasons as upstream names them: queue-full, concurrency-limit, time-out, cancelled.</summary>
        public Counter.Child Rejected(string reason) => metrics._rejected.WithLabels(schema, level, reason);
    }
}
