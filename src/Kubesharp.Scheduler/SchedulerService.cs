using System.Collections.Concurrent;
using System.Globalization;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Scheduling.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Events;
using Kubesharp.Client.Informers;
using Kubesharp.Scheduler.Framework;
using Kubesharp.Scheduler.Plugins;
using Kubesharp.Scheduler.Preemption;
using Kubesharp.Scheduler.Queue;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Scheduler;

/// <summary>
/// The scheduler as a hosted service: informers on nodes, pods and PriorityClasses feed the cache and the
/// scheduling queue; one loop pops pods, runs the algorithm on a snapshot, assumes the placement and binds
/// asynchronously; failures get PodScheduled=False, a FailedScheduling event, a verdict annotation and
/// (when it helps) preemption.
/// </summary>
public sealed partial class SchedulerService : BackgroundService
{
    private readonly KubernetesClient client;
    private readonly SchedulerOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly IBinder binder;
    private readonly SchedulerCache cache = new();
    private readonly ConcurrentQueue<Action<SchedulerCache>> cacheUpdates = new();

    /// <summary>Held by whoever reads or changes <see cref="cache"/>: the loop for an attempt, or an idle loop's stand-in.</summary>
    private readonly Lock cacheGate = new();
    private readonly SchedulingQueue queue;
    private readonly SchedulingAlgorithm algorithm;
    private readonly DefaultPreemption preemption;
    private readonly EventRecorder events;
    private readonly ResourceClient<Pod> pods;
    private readonly SemaphoreSlim bindSlots;
    private SharedInformer<PriorityClass>? priorityClasses;
    private readonly SharedInformer<PersistentVolumeClaim> claimInformer;
    private readonly SharedInformer<PersistentVolume> volumeInformer;
    private readonly SharedInformer<StorageClass> classInformer;
    private readonly VolumeBindingPlugin volumeBinding;
    private readonly ResourceClient<PersistentVolumeClaim> claims;
    private long attempts;
    private long unschedulable;
    private long bound;
    private long bindFailures;
    private long algorithmTicks;
    private long bindTicks;
    private long queueWaitTicks;
    private long firstAttempts;
    private int bindsInFlight;
    private int maxBindsInFlight;

    public SchedulerService(KubernetesClient client, SchedulerOptions? options = null, IBinder? binder = null, TimeProvider? timeProvider = null, ILogger<SchedulerService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        this.client = client;
        this.options = options ?? new SchedulerOptions();
        time = timeProvider ?? TimeProvider.System;
        this.logger = logger ?? (ILogger)NullLogger.Instance;
        this.binder = binder ?? new ApiBinder(client);
        queue = new SchedulingQueue(time);
        claims = client.Resource<PersistentVolumeClaim>();
        claimInformer = new SharedInformer<PersistentVolumeClaim>(claims, null, time);
        volumeInformer = new SharedInformer<PersistentVolume>(client.Resource<PersistentVolume>(), null, time);
        classInformer = new SharedInformer<StorageClass>(client.Resource<StorageClass>(), null, time);
        var volumes = new InformerVolumeLookup(claimInformer, volumeInformer, classInformer);
        volumeBinding = new VolumeBindingPlugin(volumes);
        algorithm = new SchedulingAlgorithm(SchedulerProfile.Default(volumes), this.options.PercentageOfNodesToScore);
        preemption = new DefaultPreemption(algorithm);
        events = new EventRecorder(client, this.options.SchedulerName, timeProvider: time);
        pods = client.Resource<Pod>();
        bindSlots = new SemaphoreSlim(this.options.BindConcurrency);
        metrics = new SchedulerMetrics(this.options.SchedulerName);
    }

    private readonly SchedulerMetrics metrics;

    /// <summary>Completes once the informers have synced and the loop runs.</summary>
    public Task Started => started.Task;

    private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Counters since start (see <see cref="SchedulerStatistics"/>).</summary>
    public SchedulerStatistics Statistics => new()
    {
        Attempts = Interlocked.Read(ref attempts),
        Unschedulable = Interlocked.Read(ref unschedulable),
        Bound = Interlocked.Read(ref bound),
        BindFailures = Interlocked.Read(ref bindFailures),
        AlgorithmTime = TimeSpan.FromSeconds((double)Interlocked.Read(ref algorithmTicks) / System.Diagnostics.Stopwatch.Frequency),
        BindTime = TimeSpan.FromSeconds((double)Interlocked.Read(ref bindTicks) / System.Diagnostics.Stopwatch.Frequency),
        MaxBindsInFlight = Volatile.Read(ref maxBindsInFlight),
        QueueWait = TimeSpan.FromTicks(Interlocked.Read(ref queueWaitTicks)),
        FirstAttempts = Interlocked.Read(ref firstAttempts),
    };

    public override void Dispose()
    {
        queue.Dispose();
        bindSlots.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Every pod and node of the cluster is held here: without managedFields, which no plugin reads.
        var trimmed = new SharedInformerOptions { TrimManagedFields = true };
        var nodeInformer = new SharedInformer<Node>(client.Resource<Node>(), trimmed, time);
        var podInformer = new SharedInformer<Pod>(client.Resource<Pod>(), trimmed, time);
        priorityClasses = new SharedInformer<PriorityClass>(client.Resource<PriorityClass>(), null, time);
        nodeInformer.AddEventHandler(
            onAdd: n => NodeChanged(null, n),
            onUpdate: NodeChanged,
            onDelete: n => UpdateCache(c => c.RemoveNode(n.Metadata?.Name ?? "")));
        podInformer.AddEventHandler(onAdd: p => PodAdded(null, p), onUpdate: PodAdded, onDelete: PodDeleted);

        // A claim bound, a volume made or a class added can make a parked pod with claims fit.
        claimInformer.AddEventHandler(_ => VolumesChanged(), (_, _) => VolumesChanged());
        volumeInformer.AddEventHandler(_ => VolumesChanged(), (_, _) => VolumesChanged());
        classInformer.AddEventHandler(_ => VolumesChanged(), (_, _) => VolumesChanged());
        var running = new[]
        {
            claimInformer.RunAsync(stoppingToken),
            volumeInformer.RunAsync(stoppingToken),
            classInformer.RunAsync(stoppingToken),
            nodeInformer.RunAsync(stoppingToken),
            podInformer.RunAsync(stoppingToken),
            priorityClasses.RunAsync(stoppingToken),
            events.RunAsync(stoppingToken),
        };
        try
        {
            await Task.WhenAll(
                nodeInformer.WaitForSyncAsync(stoppingToken), podInformer.WaitForSyncAsync(stoppingToken), priorityClasses.WaitForSyncAsync(stoppingToken),
                claimInformer.WaitForSyncAsync(stoppingToken), volumeInformer.WaitForSyncAsync(stoppingToken), classInformer.WaitForSyncAsync(stoppingToken)).ConfigureAwait(false);
            started.TrySetResult();
            SchedulerMetrics.Watch(queue);
            await ScheduleLoopAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            SchedulerMetrics.Forget(queue);
            queue.Close();
            await Task.WhenAll(running).ConfigureAwait(false);
        }
    }

    private async Task ScheduleLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var queued = await queue.PopAsync(cancellationToken).ConfigureAwait(false);
            if (queued is null)
            {
                return;
            }

            using (cacheGate.EnterScope())
            {
                ApplyCacheUpdates();
                if (cache.IsPlaced(queued.Pod.Key))
                {
                    queue.Done(queued.Pod.Key);
                    continue;
                }

                ScheduleOne(queued, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Queues a change for the loop to apply before its next attempt, and applies the queue at once when the loop is
    /// not in one: an idle scheduler (every pod placed) would otherwise hold each node heartbeat and pod status change,
    /// with the object it carries, until the next pod came.
    /// </summary>
    private void UpdateCache(Action<SchedulerCache> update)
    {
        cacheUpdates.Enqueue(update);
        if (cacheGate.TryEnter())
        {
            try
            {
                ApplyCacheUpdates();
            }
            finally
            {
                cacheGate.Exit();
            }
        }
    }

    /// <summary>Changes queued for the cache and not yet applied.</summary>
    internal int PendingCacheUpdates => cacheUpdates.Count;

    private void ApplyCacheUpdates()
    {
        while (cacheUpdates.TryDequeue(out var update))
        {
            update(cache);
        }
    }

    private void ScheduleOne(QueuedPod queued, CancellationToken cancellationToken)
    {
        var pod = queued.Pod;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        attempts++;
        if (queued.Attempts == 1)
        {
            // Informer fan-out is behind the pod's arrival; this is what the queue adds before the cycle.
            firstAttempts++;
            queueWaitTicks += Math.Max(0, (time.GetUtcNow() - queued.FirstSeen).Ticks);
        }

        var snapshot = cache.Snapshot();
        var result = algorithm.Schedule(pod, snapshot);
        if (result.NodeName is { } nodeName)
        {
            cache.Assume(pod, nodeName);
            algorithmTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
            _ = BindAsync(queued, nodeName, started, cancellationToken);
            return;
        }

        unschedulable++;

        var message = result.FailureMessage ?? "";
        var preempted = preemption.Find(pod, snapshot, result);
        if (preempted.Message.Length > 0)
        {
            message += " " + preempted.Message;
        }

        var verdict = SchedulingVerdict.ToJson(result, queued.Attempts, time.GetUtcNow(), message);
        LogUnschedulable(logger, pod.Namespace, pod.Name, message);
        queue.AddUnschedulable(queued);
        algorithmTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
        metrics.Attempted(SchedulerMetrics.Unschedulable, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        _ = ReportFailureAsync(pod, message, verdict, preempted.Candidate, cancellationToken);
    }

    private async Task BindAsync(QueuedPod queued, string nodeName, long attemptStarted, CancellationToken cancellationToken)
    {
        var pod = queued.Pod;
        await bindSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var inFlight = Interlocked.Increment(ref bindsInFlight);
        if (inFlight > Volatile.Read(ref maxBindsInFlight))
        {
            Volatile.Write(ref maxBindsInFlight, inFlight);
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            // Upstream's PreBind: claims that waited for their first consumer learn the node, so their volume is made there.
            foreach (var claim in volumeBinding.DelayedClaims(pod.Pod, nodeName))
            {
                var annotation = "{\"metadata\":{\"annotations\":{" + Quote(VolumeAnnotations.SelectedNode) + ":" + Quote(nodeName) + "}}}";
                await claims.PatchAsync(claim.Metadata!.Namespace, claim.Metadata.Name!, PatchType.Merge, annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            await binder.BindAsync(pod.Namespace, pod.Name, pod.Pod.Metadata?.Uid ?? "", nodeName, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref bindTicks, System.Diagnostics.Stopwatch.GetTimestamp() - started);
            Interlocked.Increment(ref bound);
            metrics.Attempted(SchedulerMetrics.Scheduled, System.Diagnostics.Stopwatch.GetElapsedTime(attemptStarted));
            queue.Done(pod.Key);
            if (options.RecordScheduledEvents)
            {
                events.Record(pod.Pod, EventType.Normal, "Scheduled", $"Successfully assigned {pod.Namespace}/{pod.Name} to {nodeName}");
            }

            if (pod.Pod.Metadata?.Annotations?.ContainsKey(SchedulingVerdict.AnnotationKey) == true)
            {
                await pods.PatchAsync(pod.Namespace, pod.Name, PatchType.Merge, "{\"metadata\":{\"annotations\":{" + Quote(SchedulingVerdict.AnnotationKey) + ":null}}}", cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            UpdateCache(c => c.Forget(pod.Key));
            queue.Done(pod.Key);
        }
        catch (Exception e) when (e is StatusException or HttpRequestException or IOException)
        {
            Interlocked.Increment(ref bindFailures);
            metrics.Attempted(SchedulerMetrics.Error, System.Diagnostics.Stopwatch.GetElapsedTime(attemptStarted));
            LogBindFailed(logger, pod.Namespace, pod.Name, nodeName, e.Message);
            UpdateCache(c => c.Forget(pod.Key));
            queue.AddBackoff(queued);
        }
        finally
        {
            Interlocked.Decrement(ref bindsInFlight);
            bindSlots.Release();
        }
    }

    private async Task ReportFailureAsync(PodInfo pod, string message, string verdict, PreemptionCandidate? candidate, CancellationToken cancellationToken)
    {
        events.Record(pod.Pod, EventType.Warning, "FailedScheduling", message);
        var now = ApiMachinery.Meta.V1.Rfc3339.FormatTime(time.GetUtcNow());
        try
        {
            // The verdict first: once PodScheduled=False is visible, so is the verdict that explains it.
            if (options.RecordVerdictAnnotation)
            {
                var annotation = "{\"metadata\":{\"annotations\":{" + Quote(SchedulingVerdict.AnnotationKey) + ":" + Quote(verdict) + "}}}";
                await pods.PatchAsync(pod.Namespace, pod.Name, PatchType.Merge, annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            var nominated = candidate is null ? "" : $",\"nominatedNodeName\":{Quote(candidate.NodeName)}";
            var status = "{\"status\":{\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":\"Unschedulable\",\"message\":" + Quote(message)
                + ",\"lastTransitionTime\":\"" + now + "\",\"lastProbeTime\":null}]" + nominated + "}}";
            await pods.PatchAsync(pod.Namespace, pod.Name, PatchType.StrategicMerge, status, subresource: "status", cancellationToken: cancellationToken).ConfigureAwait(false);
            if (candidate is not null)
            {
                foreach (var victim in candidate.Victims)
                {
                    events.Record(victim.Pod, EventType.Normal, "Preempted", $"Preempted by pod {pod.Pod.Metadata?.Uid} on node {candidate.NodeName}");
                    await pods.DeleteAsync(victim.Namespace, victim.Name, null, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is StatusException or HttpRequestException or IOException)
        {
            LogReportFailed(logger, pod.Namespace, pod.Name, e.Message);
        }
    }

    private void NodeChanged(Node? old, Node node)
    {
        UpdateCache(c => c.SetNode(node));

        // Heartbeats and other status churn cannot make a pod fit: only what the filters read moves parked pods.
        if (old is null || SchedulingEvents.NodeSchedulingPropertiesChanged(old, node))
        {
            queue.MoveAllToActiveOrBackoff();
        }
    }

    private void VolumesChanged()
    {
        if (started.Task.IsCompleted)
        {
            queue.MoveAllToActiveOrBackoff();
        }
    }

    private void PodAdded(Pod? old, Pod pod)
    {
        var key = ObjectKey.Of(pod);
        var terminal = pod.Status?.Phase is "Succeeded" or "Failed";
        if (!string.IsNullOrEmpty(pod.Spec?.NodeName))
        {
            queue.Delete(key);
            if (terminal)
            {
                UpdateCache(c => c.RemovePod(key));
                queue.MoveAllToActiveOrBackoff();
            }
            else
            {
                var info = new PodInfo(pod, ResolvePriority(pod));
                UpdateCache(c => c.SetPod(info));
                if (string.IsNullOrEmpty(old?.Spec?.NodeName))
                {
                    // A newly placed pod can only satisfy pod affinity or topology spread of parked pods.
                    queue.MoveAllToActiveOrBackoff(SchedulingEvents.MayBeHelpedByAssignedPod);
                }
            }

            return;
        }

        if (terminal || pod.Metadata?.DeletionTimestamp is not null || (pod.Spec?.SchedulerName ?? "default-scheduler") != options.SchedulerName)
        {
            return;
        }

        // The scheduler's own status and verdict patches come back as updates: they must not retry the pod.
        queue.Add(new PodInfo(pod, ResolvePriority(pod)), old is null || SchedulingEvents.PodSchedulingPropertiesChanged(old, pod));
    }

    private void PodDeleted(Pod pod)
    {
        var key = ObjectKey.Of(pod);
        queue.Delete(key);
        if (!string.IsNullOrEmpty(pod.Spec?.NodeName))
        {
            UpdateCache(c => c.RemovePod(key));
            queue.MoveAllToActiveOrBackoff();
        }
    }

    /// <summary>
    /// The API server defaults spec.priority to 0 without resolving PriorityClasses, so the class named in
    /// spec.priorityClassName (or the global default class) is resolved here.
    /// </summary>
    private int ResolvePriority(Pod pod)
    {
        var lister = priorityClasses?.Lister;
        if (lister is not null)
        {
            if (pod.Spec?.PriorityClassName is { Length: > 0 } className && lister.Get(null, className) is { } named)
            {
                return named.Value ?? 0;
            }

            if (pod.Spec?.Priority is null or 0 && string.IsNullOrEmpty(pod.Spec?.PriorityClassName)
                && lister.List().FirstOrDefault(c => c.GlobalDefault == true) is { } global)
            {
                return global.Value ?? 0;
            }
        }

        return pod.Spec?.Priority ?? 0;
    }

    private static string Quote(string value) => System.Text.Json.JsonSerializer.Serialize(value, SchedulerJsonContext.Default.String);

    [LoggerMessage(Level = LogLevel.Information, Message = "Unable to schedule {Namespace}/{Name}: {Reason}")]
    private static partial void LogUnschedulable(ILogger logger, string @namespace, string name, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binding {Namespace}/{Name} to {Node} failed: {Error}")]
    private static partial void LogBindFailed(ILogger logger, string @namespace, string name, string node, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reporting the scheduling failure of {Namespace}/{Name} failed: {Error}")]
    private static partial void LogReportFailed(ILogger logger, string @namespace, string name, string error);
}
