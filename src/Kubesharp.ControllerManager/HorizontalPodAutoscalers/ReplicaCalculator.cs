using Kubesharp.Api.Core.V1;
using Kubesharp.ControllerManager.Pods;

namespace Kubesharp.ControllerManager.HorizontalPodAutoscalers;

/// <summary>
/// The replica count a resource metric asks for, by upstream's rules: usage over target times the pods measured,
/// unchanged within the tolerance; pods without metrics count as using their whole request on a scale down and nothing
/// on a scale up, unready pods (CPU only: not Ready, or just started) as nothing on a scale up, and a correction that
/// would reverse the direction of the change keeps the current count.
/// </summary>
internal sealed class ReplicaCalculator(ReplicaCalculatorOptions options)
{
    /// <summary>Replicas for a target average utilization (percent of the pods' requests).</summary>
    public ReplicaCalculation ResourceReplicas(
        int currentReplicas, int targetUtilization, string resource, IReadOnlyList<Pod> pods, IReadOnlyDictionary<string, PodMetric> podMetrics,
        DateTimeOffset now, double scaleUpTolerance, double scaleDownTolerance)
    {
        var (metrics, timestamp, readyPodCount, unready, missing) = Group(resource, pods, podMetrics, now);
        var requests = Requests(pods, resource);
        if (metrics.Count == 0)
        {
            throw new MetricComputationException("did not receive metrics for targeted pods (pods might be unready)");
        }

        var (usageRatio, utilization, average) = UtilizationRatio(metrics, requests, targetUtilization);
        var fallback = Math.Max(100, targetUtilization);
        var replicas = Correct(currentReplicas, usageRatio, readyPodCount, metrics, unready, missing, pod => requests[pod] * fallback / 100,
            m => UtilizationRatio(m, requests, targetUtilization).Ratio, scaleUpTolerance, scaleDownTolerance);
        return new ReplicaCalculation(replicas, utilization, average, timestamp);
    }

    /// <summary>Replicas for a target average value per pod (in thousandths of the resource's unit).</summary>
    public ReplicaCalculation RawResourceReplicas(
        int currentReplicas, long targetMilliValue, string resource, IReadOnlyList<Pod> pods, IReadOnlyDictionary<string, PodMetric> podMetrics,
        DateTimeOffset now, double scaleUpTolerance, double scaleDownTolerance)
    {
        var (metrics, timestamp, readyPodCount, unready, missing) = Group(resource, pods, podMetrics, now);
        if (metrics.Count == 0)
        {
            throw new MetricComputationException("did not receive metrics for targeted pods (pods might be unready)");
        }

        var (usageRatio, average) = UsageRatio(metrics, targetMilliValue);
        var replicas = Correct(currentReplicas, usageRatio, readyPodCount, metrics, unready, missing, _ => targetMilliValue,
            m => UsageRatio(m, targetMilliValue).Ratio, scaleUpTolerance, scaleDownTolerance);
        return new ReplicaCalculation(replicas, null, average, timestamp);
    }

    private static int Correct(
        int currentReplicas, double usageRatio, int readyPodCount, Dictionary<string, long> metrics, List<string> unready, List<string> missing,
        Func<string, long> missingOnScaleDown, Func<Dictionary<string, long>, double> ratio, double upTolerance, double downTolerance)
    {
        bool WithinTolerance(double r) => r < 1.0 ? 1.0 - r <= downTolerance : r - 1.0 <= upTolerance;

        var scaleUpWithUnready = unready.Count > 0 && usageRatio > 1.0;
        if (!scaleUpWithUnready && missing.Count == 0)
        {
            return WithinTolerance(usageRatio) ? currentReplicas : (int)Math.Ceiling(usageRatio * readyPodCount);
        }

        if (missing.Count > 0)
        {
            foreach (var pod in missing)
            {
                // Taken as at the target (or the whole request) when shrinking, as idle when growing: either way towards no change.
                metrics[pod] = usageRatio < 1.0 ? missingOnScaleDown(pod) : 0;
            }
        }

        if (scaleUpWithUnready)
        {
            foreach (var pod in unready)
            {
                metrics[pod] = 0;
            }
        }

        var newRatio = ratio(metrics);
        if (WithinTolerance(newRatio) || (usageRatio < 1.0 && newRatio > 1.0) || (usageRatio > 1.0 && newRatio < 1.0))
        {
            return currentReplicas;
        }

        var replicas = (int)Math.Ceiling(newRatio * metrics.Count);
        return (newRatio < 1.0 && replicas > currentReplicas) || (newRatio > 1.0 && replicas < currentReplicas) ? currentReplicas : replicas;
    }

    /// <summary>Sorts the pods: deleted or failed ones are ignored, pending or (for CPU) unready ones set aside, the rest measured or missing.</summary>
    private (Dictionary<string, long> Metrics, DateTimeOffset Timestamp, int ReadyPodCount, List<string> Unready, List<string> Missing) Group(
        string resource, IReadOnlyList<Pod> pods, IReadOnlyDictionary<string, PodMetric> podMetrics, DateTimeOffset now)
    {
        if (pods.Count == 0)
        {
            throw new MetricComputationException("no pods returned by selector while calculating replica count");
        }

        var metrics = new Dictionary<string, long>(StringComparer.Ordinal);
        var unready = new List<string>();
        var missing = new List<string>();
        var ready = 0;
        var timestamp = DateTimeOffset.MinValue;
        foreach (var pod in pods)
        {
            var name = pod.Metadata?.Name ?? string.Empty;
            if (pod.Metadata?.DeletionTimestamp is not null || pod.Status?.Phase == "Failed")
            {
                continue;
            }

            if (pod.Status?.Phase == "Pending")
            {
                unready.Add(name);
                continue;
            }

            if (!podMetrics.TryGetValue(name, out var metric))
            {
                missing.Add(name);
                continue;
            }

            if (timestamp < metric.Timestamp)
            {
                timestamp = metric.Timestamp;
            }

            if (resource == "cpu" && IsUnreadyForCpu(pod, metric, now))
            {
                unready.Add(name);
                continue;
            }

            metrics[name] = metric.MilliValue;
            ready++;
        }

        return (metrics, timestamp, ready, unready, missing);
    }

    /// <summary>
    /// A CPU sample counts only from a pod that is Ready and was measured a full window after it became so (while it may
    /// still be starting up), or that has been ready at some point since starting.
    /// </summary>
    private bool IsUnreadyForCpu(Pod pod, PodMetric metric, DateTimeOffset now)
    {
        var condition = PodReadiness.GetReadyCondition(pod);
        if (condition is null || pod.Status?.StartTime is not { } started)
        {
            return true;
        }

        var transition = condition.LastTransitionTime ?? DateTimeOffset.MinValue;
        if (started + options.CpuInitializationPeriod > now)
        {
            return condition.Status == "False" || metric.Timestamp < transition + metric.Window;
        }

        return condition.Status == "False" && started + options.InitialReadinessDelay > transition;
    }

    /// <summary>Each pod's summed container requests of the resource; a container without one makes utilization meaningless.</summary>
    private static Dictionary<string, long> Requests(IReadOnlyList<Pod> pods, string resource)
    {
        var requests = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            long sum = 0;
            foreach (var container in pod.Spec?.Containers ?? [])
            {
                if (container.Resources?.Requests is not { } containerRequests || !containerRequests.TryGetValue(resource, out var request))
                {
                    throw new MetricComputationException($"missing request for {resource} in container {container.Name} of Pod {pod.Metadata?.Name}");
                }

                sum += request.MilliValue();
            }

            requests[pod.Metadata?.Name ?? string.Empty] = sum;
        }

        return requests;
    }

    private static (double Ratio, int Utilization, long Average) UtilizationRatio(Dictionary<string, long> metrics, Dictionary<string, long> requests, int targetUtilization)
    {
        long usage = 0, requested = 0;
        var counted = 0;
        foreach (var (pod, value) in metrics)
        {
            if (!requests.TryGetValue(pod, out var request))
            {
                continue;
            }

            usage += value;
            requested += request;
            counted++;
        }

        if (requested == 0)
        {
            throw new MetricComputationException("no metrics returned matched known pods");
        }

        var utilization = (int)(usage * 100 / requested);
        return ((double)utilization / targetUtilization, utilization, usage / counted);
    }

    private static (double Ratio, long Average) UsageRatio(Dictionary<string, long> metrics, long target)
    {
        var average = metrics.Values.Sum() / metrics.Count;
        return ((double)average / target, average);
    }
}
