using System.Collections.Concurrent;
using Kubesharp.Api.Core.V1;
using Microsoft.Extensions.Logging;

using Kubesharp.Kubelet.Pods;

namespace Kubesharp.Kubelet.Probes;

/// <summary>
/// Runs liveness, readiness and startup probes: one loop per probe of a running container, honouring the
/// initial delay, period, timeout and thresholds. Results are kept per container ID; a change of result
/// asks for the pod to be synced (readiness goes into status, a failed liveness/startup probe restarts).
/// </summary>
internal sealed partial class ProbeManager : IAsyncDisposable
{
    private readonly ActionRunner actions;
    private readonly Action<string> podChanged;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly PodEvents? events;
    private readonly ConcurrentDictionary<(string ContainerId, ProbeKind Kind), bool> results = new();
    private readonly ConcurrentDictionary<(string Uid, string Container, ProbeKind Kind), Worker> workers = new();
    private readonly CancellationTokenSource stopping = new();

    public ProbeManager(ActionRunner actions, Action<string> podChanged, TimeProvider time, ILogger logger, PodEvents? events = null)
    {
        this.events = events;
        this.actions = actions;
        this.podChanged = podChanged;
        this.time = time;
        this.logger = logger;
    }

    /// <summary>Ready when the container has no readiness probe, or its probe succeeded.</summary>
    public bool IsReady(Container container, string containerId) =>
        container.ReadinessProbe is null || results.GetValueOrDefault((containerId, ProbeKind.Readiness));

    /// <summary>Started when the container has no startup probe, or its probe succeeded.</summary>
    public bool IsStarted(Container container, string containerId) =>
        container.StartupProbe is null || results.GetValueOrDefault((containerId, ProbeKind.Startup));

    /// <summary>Whether a liveness or startup probe gave up on the container: it must be restarted.</summary>
    public string? FailedProbe(string containerId) =>
        results.TryGetValue((containerId, ProbeKind.Liveness), out var live) && !live ? "Liveness"
        : results.TryGetValue((containerId, ProbeKind.Startup), out var started) && !started ? "Startup"
        : null;

    /// <summary>Seeds readiness of a container adopted after a restart with what the API last said, so Ready does not flap.</summary>
    public void SeedReadiness(string containerId, bool ready)
    {
        if (ready)
        {
            results.TryAdd((containerId, ProbeKind.Readiness), true);
            results.TryAdd((containerId, ProbeKind.Startup), true);
        }
    }

    /// <summary>Starts probes for running containers and stops those of containers that are gone or replaced.</summary>
    public void Update(Pod pod, string podIp, IReadOnlyDictionary<string, (string ContainerId, DateTimeOffset StartedAt)> running)
    {
        var uid = pod.Metadata!.Uid!;
        foreach (var container in pod.Spec?.Containers ?? [])
        {
            foreach (var (kind, probe) in new[] { (ProbeKind.Liveness, container.LivenessProbe), (ProbeKind.Readiness, container.ReadinessProbe), (ProbeKind.Startup, container.StartupProbe) })
            {
                var key = (uid, container.Name!, kind);
                if (probe is null || !running.TryGetValue(container.Name!, out var current))
                {
                    Stop(key);
                    continue;
                }

                if (workers.TryGetValue(key, out var existing))
                {
                    if (existing.ContainerId == current.ContainerId)
                    {
                        continue;
                    }

                    Stop(key);
                }

                var worker = new Worker(pod, uid, container, kind, probe, current.ContainerId, current.StartedAt, CancellationTokenSource.CreateLinkedTokenSource(stopping.Token));
                if (workers.TryAdd(key, worker))
                {
                    worker.Task = Task.Run(() => RunAsync(worker, podIp), CancellationToken.None);
                }
            }
        }
    }

    public void Remove(string uid)
    {
        foreach (var key in workers.Keys.Where(k => k.Uid == uid).ToList())
        {
            Stop(key);
        }
    }

    public void Forget(string containerId)
    {
        foreach (var kind in Enum.GetValues<ProbeKind>())
        {
            results.TryRemove((containerId, kind), out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await Task.WhenAll(workers.Values.Select(w => w.Task ?? Task.CompletedTask));
        stopping.Dispose();
    }

    private void Stop((string, string, ProbeKind) key)
    {
        if (workers.TryRemove(key, out var worker))
        {
            worker.Cancellation.Cancel();
            worker.Cancellation.Dispose();
        }
    }

    private async Task RunAsync(Worker worker, string podIp)
    {
        var probe = worker.Probe;
        var cancellationToken = worker.Cancellation.Token;
        var period = TimeSpan.FromSeconds(Math.Max(1, probe.PeriodSeconds ?? 10));
        var timeout = TimeSpan.FromSeconds(Math.Max(1, probe.TimeoutSeconds ?? 1));
        var successThreshold = Math.Max(1, probe.SuccessThreshold ?? 1);
        var failureThreshold = Math.Max(1, probe.FailureThreshold ?? 3);
        var successes = 0;
        var failures = 0;
        try
        {
            var firstAt = worker.StartedAt + TimeSpan.FromSeconds(Math.Max(0, probe.InitialDelaySeconds ?? 0));
            var wait = firstAt - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, cancellationToken);
            }

            while (!cancellationToken.IsCancellationRequested)
            {
                if (worker.Kind != ProbeKind.Startup && worker.Container.StartupProbe is not null
                    && !results.GetValueOrDefault((worker.ContainerId, ProbeKind.Startup)))
                {
                    await Task.Delay(period, time, cancellationToken);
                    continue;
                }

                var (success, message) = await ProbeOnceAsync(worker, podIp, timeout, cancellationToken);
                if (success)
                {
                    failures = 0;
                    successes++;
                }
                else
                {
                    successes = 0;
                    failures++;
                    LogProbeFailed(logger, worker.Kind, worker.Container.Name!, worker.Uid, message);
                    events?.Unhealthy(worker.Pod, worker.Container, worker.Kind.ToString(), message);
                }

                bool? result = successes >= successThreshold ? true : failures >= failureThreshold ? false : null;
                if (result is { } value)
                {
                    var key = (worker.ContainerId, worker.Kind);
                    var changed = !results.TryGetValue(key, out var previous) || previous != value;
                    results[key] = value;
                    if (changed)
                    {
                        podChanged(worker.Uid);
                    }

                    // A startup probe ends with its first verdict; a failed liveness probe waits for the restart.
                    if (worker.Kind == ProbeKind.Startup || (worker.Kind == ProbeKind.Liveness && !value))
                    {
                        workers.TryRemove((worker.Uid, worker.Container.Name!, worker.Kind), out _);
                        return;
                    }
                }

                await Task.Delay(period, time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task<(bool, string)> ProbeOnceAsync(Worker worker, string podIp, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var probe = worker.Probe;
        try
        {
            if (probe.Exec is { } exec)
            {
                return await actions.RunExecAsync(worker.ContainerId, exec, timeout, cancellationToken);
            }

            if (probe.HttpGet is { } httpGet)
            {
                return await actions.RunHttpGetAsync(httpGet, podIp, worker.Container, timeout, cancellationToken);
            }

            if (probe.TcpSocket is { } tcp)
            {
                return await actions.RunTcpAsync(tcp, podIp, worker.Container, timeout, cancellationToken);
            }

            if (probe.Grpc is { } grpc)
            {
                return await GrpcHealthProbe.CheckAsync(podIp, grpc.Port ?? 0, grpc.Service, timeout, cancellationToken);
            }

            return (false, "probe has no handler");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or InvalidOperationException or IOException or HttpRequestException or TimeoutException)
        {
            return (false, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Kind} probe of container {Container} in pod {Uid} failed: {Message}")]
    private static partial void LogProbeFailed(ILogger logger, ProbeKind kind, string container, string uid, string message);

    private sealed class Worker(Pod pod, string uid, Container container, ProbeKind kind, Probe probe, string containerId, DateTimeOffset startedAt, CancellationTokenSource cancellation)
    {
        public Pod Pod { get; } = pod;

        public string Uid { get; } = uid;

        public Container Container { get; } = container;

        public ProbeKind Kind { get; } = kind;

        public Probe Probe { get; } = probe;

        public string ContainerId { get; } = containerId;

        public DateTimeOffset StartedAt { get; } = startedAt;

        public CancellationTokenSource Cancellation { get; } = cancellation;

        public Task? Task { get; set; }
    }
}
