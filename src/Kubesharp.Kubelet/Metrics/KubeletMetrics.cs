using System.Collections.Concurrent;
using Kubesharp.ApiMachinery.Metrics;
using Kubesharp.Cri;
using Kubesharp.Kubelet.Pods;
using Prometheus;
using Kubesharp.Cri.V1;

namespace Kubesharp.Kubelet.Metrics;

/// <summary>
/// The kubelet's own metrics, in a registry of this kubelet: running pods and containers counted in the runtime
/// when scraped, and how long pods take from the kubelet first seeing them to running (upstream's
/// kubelet_pod_start_duration_seconds).
/// </summary>
public sealed class KubeletMetrics
{
    private static readonly double[] StartBuckets = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];

    private readonly Histogram _podStart;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, long> _firstSeen = new(StringComparer.Ordinal);

    public KubeletMetrics(IRuntimeService runtime, TimeProvider time)
    {
        _time = time;
        Registry = ComponentMetrics.NewRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _podStart = factory.CreateHistogram("kubelet_pod_start_duration_seconds", "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run", new HistogramConfiguration { Buckets = StartBuckets });
        var runningPods = factory.CreateGauge("kubelet_running_pods", "Number of pods that have a running pod sandbox");
        var runningContainers = factory.CreateGauge("kubelet_running_containers", "Number of containers currently running", ["container_state"]);
        Registry.AddBeforeCollectCallback(async cancellationToken =>
        {
            var sandboxes = await runtime.ListPodSandboxAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            runningPods.Set(sandboxes.Count(s => s.State == PodSandboxState.SandboxReady && s.Labels.ContainsKey(CriLabels.PodUid)));
            var containers = await runtime.ListContainersAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var byState = containers.Where(c => c.Labels.ContainsKey(CriLabels.PodUid)).GroupBy(c => c.State).ToDictionary(g => g.Key, g => g.Count());
            foreach (var (state, label) in (ReadOnlySpan<(ContainerState, string)>)[(ContainerState.ContainerRunning, "running"), (ContainerState.ContainerExited, "exited"), (ContainerState.ContainerCreated, "created"), (ContainerState.ContainerUnknown, "unknown")])
            {
                runningContainers.WithLabels(label).Set(byState.GetValueOrDefault(state));
            }
        });
    }

    public CollectorRegistry Registry { get; }

    /// <summary>A pod the kubelet sees that has not run yet starts its clock.</summary>
    public void PodSeen(string uid) => _firstSeen.TryAdd(uid, _time.GetTimestamp());

    /// <summary>The pod's status says Running: its start time is observed once.</summary>
    public void PodRunning(string uid)
    {
        if (_firstSeen.TryRemove(uid, out var seen))
        {
            _podStart.Observe(_time.GetElapsedTime(seen).TotalSeconds);
        }
    }

    public void PodGone(string uid) => _firstSeen.TryRemove(uid, out _);
}
