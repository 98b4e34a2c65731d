using System.Text.Json.Nodes;
using Kubesharp.Api.Autoscaling.V2;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Objects;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.HorizontalPodAutoscalers;

/// <summary>
/// Scales the targets of HorizontalPodAutoscalers (autoscaling/v2) through their scale subresource, every sync period,
/// from the resource metrics API: each metric proposes a count (<see cref="ReplicaCalculator"/>), the largest wins, and
/// <see cref="ReplicaNormalizer"/> applies the stabilization windows, rate policies and bounds. Status, conditions and
/// events as upstream's controller writes them.
/// </summary>
internal sealed partial class HorizontalPodAutoscalerController : IController, IReconciler
{
    private readonly ControllerContext context;
    private readonly HorizontalPodAutoscalerOptions options;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private readonly ReplicaCalculator calculator;
    private readonly ReplicaNormalizer normalizer;
    private readonly ScaleTargets scales;
    private readonly ResourceMetricsClient metrics;
    private Lister<HorizontalPodAutoscaler> autoscalers = null!;
    private Lister<Pod> pods = null!;

    public HorizontalPodAutoscalerController(ControllerContext context)
    {
        this.context = context;
        options = context.Options.HorizontalPodAutoscaler;
        // As upstream: a failed evaluation is retried one sync period later, never after a growing backoff.
        queue = new WorkQueue<string>(new FixedIntervalRateLimiter<string>(options.SyncPeriod), context.Time);
        logger = context.LoggerFactory.CreateLogger<HorizontalPodAutoscalerController>();
        calculator = new ReplicaCalculator(new ReplicaCalculatorOptions { CpuInitializationPeriod = options.CpuInitializationPeriod, InitialReadinessDelay = options.InitialReadinessDelay });
        normalizer = new ReplicaNormalizer(context.Time, options.DownscaleStabilizationWindow);
        scales = new ScaleTargets(context.Client);
        metrics = new ResourceMetricsClient(context.Client);
    }

    public string Name => "horizontalpodautoscaling";

    public void Register()
    {
        var autoscalerInformer = context.Informers.Informer<HorizontalPodAutoscaler>();
        var podInformer = context.Informers.Informer<Pod>();
        autoscalers = autoscalerInformer.Lister;
        pods = podInformer.Lister;
        autoscalerInformer.AddEventHandler(
            hpa => queue.Add(ObjectKey.Of(hpa)),
            (old, hpa) =>
            {
                // The controller's own status writes need no new evaluation: the sync period brings the next one.
                if (old.Metadata?.Generation != hpa.Metadata?.Generation)
                {
                    queue.Add(ObjectKey.Of(hpa));
                }
            },
            hpa => normalizer.Forget(ObjectKey.Of(hpa)));
        syncs.Add(autoscalerInformer.WaitForSyncAsync);
        syncs.Add(podInformer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(options.Workers, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        if (autoscalers.Get(ns, name) is not { } cached)
        {
            normalizer.Forget(key);
            return ReconcileResult.Done;
        }

        var hpa = ObjectCopy.Clone(cached);
        var original = cached.Status is { } cachedStatus ? ObjectCopy.Clone(cachedStatus) : new HorizontalPodAutoscalerStatus();
        var status = ObjectCopy.Clone(original);
        try
        {
            await ReconcileAutoscalerAsync(key, hpa, status, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            status.ObservedGeneration = hpa.Metadata?.Generation;
            if (!ObjectCopy.SemanticEquals(original, status))
            {
                try
                {
                    await context.Client.Resource<HorizontalPodAutoscaler>().UpdateStatusAsync(hpa with { Status = status }, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (StatusException e) when (e.IsNotFound() || e.IsConflict())
                {
                    // Deleted, or changed since read: the next evaluation writes the status again.
                }
            }
        }

        return ReconcileResult.RequeueIn(options.SyncPeriod);
    }

    private async Task ReconcileAutoscalerAsync(string key, HorizontalPodAutoscaler hpa, HorizontalPodAutoscalerStatus status, CancellationToken cancellationToken)
    {
        var now = context.Time.GetUtcNow();
        var spec = hpa.Spec ?? new HorizontalPodAutoscalerSpec();
        var target = spec.ScaleTargetRef ?? new CrossVersionObjectReference();
        var ns = hpa.Metadata?.Namespace ?? "default";
        var reference = $"{target.Kind}/{target.Name}";
        string path;
        JsonObject scale;
        try
        {
            (path, scale) = await scales.GetAsync(ns, target.ApiVersion, target.Kind ?? string.Empty, target.Name ?? string.Empty, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.Code is >= 400 and < 500)
        {
            context.Events.Record(hpa, "Warning", "FailedGetScale", e.Message);
            HorizontalPodAutoscalerConditions.Set(status, HorizontalPodAutoscalerConditions.AbleToScale, false, "FailedGetScale", $"the HPA controller was unable to get the target's current scale: {e.Message}", now);
            return;
        }

        HorizontalPodAutoscalerConditions.Set(status, HorizontalPodAutoscalerConditions.AbleToScale, true, "SucceededGetScale", "the HPA controller was able to get the target's current scale", now);
        var currentReplicas = (int?)scale["spec"]?["replicas"] ?? 0;
                normalizer.RecordInitialRecommendation(key, currentReplicas);
        var minReplicas = spec.MinReplicas ?? 1;
        var maxReplicas = spec.MaxReplicas ?? minReplicas;
        List<MetricStatus> metricStatuses = status.CurrentMetrics ?? [];
        int desiredReplicas;
        var rescaleReason = string.Empty;
        var rescale = true;
        if (currentReplicas == 0 && minReplicas != 0)
        {
            desiredReplicas = 0;
            rescale = false;
            HorizontalPodAutoscalerConditions.Set(status, HorizontalPodAutoscalerConditions.ScalingActive, false, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero", now);
        }
        else if (currentReplicas > maxReplicas)
        {
            rescaleReason = "Current number of replicas above Spec.MaxReplicas";
            desiredReplicas = maxReplicas;
        }
        else if (currentReplicas < minReplicas)
        {
            rescaleReason = "Current number of replicas below Spec.MinReplicas";
            desiredReplicas = minReplicas;
        }
        else
        {
            var (proposal, metricName, statuses, error) = await ComputeReplicasForMetricsAsync(hpa, status, currentReplicas, (string?)scale["status"]?["selector"], spec.Metrics ?? [], now, cancellationToken).ConfigureAwait(false);
            if (proposal < 0)
            {
                status.CurrentReplicas = currentReplicas;
                status.CurrentMetrics = statuses;
                context.Events.Record(hpa, "Warning", "FailedComputeMetricsReplicas", error ?? string.Empty);
                LogMetricsFailed(logger, ns, hpa.Metadata?.Name, reference, error ?? string.Empty);
                return;
            }

            metricStatuses = statuses;
            desiredReplicas = proposal;
            if (desiredReplicas > currentReplicas)
            {
                rescaleReason = $"{metricName} above target";
            }

            if (desiredReplicas < currentReplicas)
            {
                rescaleReason = "All metrics below target";
            }

            var normalized = spec.Behavior is { } behavior
                ? normalizer.NormalizeWithBehavior(key, behavior, currentReplicas, desiredReplicas, minReplicas, maxReplicas)
                : normalizer.Normalize(key, currentReplicas, desiredReplicas, minReplicas, maxReplicas);
            HorizontalPodAutoscalerConditions.Set(status, HorizontalPodAutoscalerConditions.AbleToScale, true, normalized.AbleToScaleReason, normalized.AbleToScaleMessage, now);
            HorizontalPodAutoscalerConditions.Set(status, HorizontalPodAutoscalerConditions.ScalingLimited, normalized.Limited, normalized.LimitReason, normalized.LimitMessage, now);
            desiredReplicas = normalized.Replicas;
            rescale = desiredReplicas != currentReplicas;
        }

        if (rescale)
        {
            try
            {
                await scales.UpdateAsync(path, scale, desiredReplicas, cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e)
            {
                context.Events.Record(hpa, "Warning", "FailedRescale", $"New size: {desiredReplicas}; reason: {rescaleReason}; error: {e.Message}");
                HorizontalPodAutoscalerConditions.Set(status, HorizontalPodAutoscalerConditions.AbleToScale, false, "FailedUpdateScale", $"the HPA controller was unable to update the target scale: {e.Message}", now);
                status.CurrentReplicas = currentReplicas;
                status.CurrentMetrics = metricStatuses;
                return;
            }

            HorizontalPodAutoscalerConditions.Set(status, HorizontalPodAutoscalerConditions.AbleToScale, true, "SucceededRescale", $"the HPA controller was able to update the target scale to {desiredReplicas}", now);
            context.Events.Record(hpa, "Normal", "SuccessfulRescale", $"New size: {desiredReplicas}; reason: {rescaleReason}");
            LogRescaled(logger, ns, hpa.Metadata?.Name, currentReplicas, desiredReplicas, rescaleReason);
            normalizer.RecordScale(key, spec.Behavior, currentReplicas, desiredReplicas);
            status.LastScaleTime = now;
        }
        else
        {
            desiredReplicas = currentReplicas;
        }

        status.CurrentReplicas = currentReplicas;
        status.DesiredReplicas = desiredReplicas;
        status.CurrentMetrics = metricStatuses.Count == 0 ? null : metricStatuses;
    }

    /// <summary>The largest count any valid metric asks for; -1 (with the first error) when none can be computed, or when some fail and the rest would scale down.</summary>
    private async Task<(int Replicas, string MetricName, List<MetricStatus> Statuses, string? Error)> ComputeReplicasForMetricsAsync(
        HorizontalPodAutoscaler hpa, HorizontalPodAutoscalerStatus status, int specReplicas, string? selectorText, List<MetricSpec> specs, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(selectorText))
        {
            const string missing = "selector is required";
            context.Events.Record(hpa, "Warning", "SelectorRequired", missing);
            HorizontalPodAutoscalerConditions.Set(status, HorizontalPodAutoscalerConditions.ScalingActive, false, "InvalidSelector", "the HPA target's scale is missing a selector", now);
            return (-1, string.Empty, [], missing);
        }

        LabelSelectorMatcher selector;
        try
        {
            selector = LabelSelectorMatcher.Parse(selectorText);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            var message = $"couldn't convert selector into a corresponding internal selector object: {e.Message}";
            context.Events.Record(hpa, "Warning", "InvalidSelector", message);
            HorizontalPodAutoscalerConditions.Set(status, HorizontalPodAutoscalerConditions.ScalingActive, false, "InvalidSelector", message, now);
            return (-1, string.Empty, [], message);
        }

        var ns = hpa.Metadata?.Namespace ?? "default";
        var targeted = pods.List(ns, selector);
        var statuses = new List<MetricStatus>(specs.Count);
        var replicas = 0;
        var metricName = string.Empty;
        var invalid = 0;
        string? firstError = null;
        (string Reason, string Message)? firstCondition = null;
        foreach (var spec in specs)
        {
            try
            {
                var (proposal, name, metricStatus) = await ComputeReplicasForMetricAsync(hpa, spec, specReplicas, selectorText, targeted, now, cancellationToken).ConfigureAwait(false);
                statuses.Add(metricStatus);
                if (replicas == 0 || proposal > replicas)
                {
                    replicas = proposal;
                    metricName = name;
                }
            }
            catch (MetricComputationException e)
            {
                statuses.Add(new MetricStatus { Type = string.Empty });
                var reason = spec.Type switch
                {
                    "Resource" => "FailedGetResourceMetric",
                    "ContainerResource" => "FailedGetContainerResourceMetric",
                    "Pods" => "FailedGetPodsMetric",
                    "Object" => "FailedGetObjectMetric",
                    "External" => "FailedGetExternalMetric",
                    _ => "InvalidMetricSourceType",
                };
                context.Events.Record(hpa, "Warning", reason, e.Message);
                if (invalid++ == 0)
                {
                    firstError = e.Message;
                    firstCondition = (reason, $"the HPA was unable to compute the replica count: {e.Message}");
                }
            }
        }

        if (firstError is not null)
        {
            firstError = $"invalid metrics ({invalid} invalid out of {specs.Count}), first error is: {firstError}";
        }

        if (specs.Count > 0 && (invalid >= specs.Count || (invalid > 0 && replicas < specReplicas)))
        {
            HorizontalPodAutoscalerConditions.Set(status, HorizontalPodAutoscalerConditions.ScalingActive, false, firstCondition!.Value.Reason, firstCondition.Value.Message, now);
            return (-1, string.Empty, statuses, firstError);
        }

        HorizontalPodAutoscalerConditions.Set(status, HorizontalPodAutoscalerConditions.ScalingActive, true, "ValidMetricFound", $"the HPA was able to successfully calculate a replica count from {metricName}", now);
        return (replicas, metricName, statuses, firstError);
    }

    private async Task<(int Replicas, string MetricName, MetricStatus Status)> ComputeReplicasForMetricAsync(
        HorizontalPodAutoscaler hpa, MetricSpec spec, int specReplicas, string selector, IReadOnlyList<Pod> targeted, DateTimeOffset now, CancellationToken cancellationToken)
    {
        switch (spec.Type)
        {
            case "Resource" when spec.Resource is { Name: { } resource, Target: { } target }:
                var calculation = await ComputeResourceAsync(hpa, resource, target, specReplicas, selector, targeted, now, cancellationToken).ConfigureAwait(false);
                return (calculation.Replicas, calculation.Name, new MetricStatus
                {
                    Type = "Resource",
                    Resource = new ResourceMetricStatus { Name = resource, Current = calculation.Current },
                });
            case "Resource":
                throw new MetricComputationException("invalid resource metric source: the resource name and target are required");
            case "Pods" or "Object" or "External" or "ContainerResource":
                // Only the resource metrics API is served; custom and external metrics have no source here.
                throw new MetricComputationException($"unable to get metric of type {spec.Type}: the server could not find the requested resource (get {(spec.Type == "External" ? "external" : "custom")}.metrics.k8s.io)");
            default:
                throw new MetricComputationException($"unknown metric source type \"{spec.Type}\"");
        }
    }

    private async Task<(int Replicas, string Name, MetricValueStatus Current)> ComputeResourceAsync(
        HorizontalPodAutoscaler hpa, string resource, MetricTarget target, int currentReplicas, string selector, IReadOnlyList<Pod> targeted, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ns = hpa.Metadata?.Namespace ?? "default";
        var (up, down) = Tolerances(hpa.Spec?.Behavior);
        if (target.AverageValue is { } averageValue)
        {
            try
            {
                var podMetrics = await metrics.PodMetricsAsync(ns, selector, resource, cancellationToken).ConfigureAwait(false);
                var raw = calculator.RawResourceReplicas(currentReplicas, averageValue.MilliValue(), resource, targeted, podMetrics, now, up, down);
                return (raw.Replicas, $"{resource} resource", new MetricValueStatus { AverageValue = Quantity.FromMilli(raw.AverageMilliValue) });
            }
            catch (MetricComputationException e)
            {
                throw new MetricComputationException($"failed to get {resource} usage: {e.Message}");
            }
        }

        if (target.AverageUtilization is not { } utilization)
        {
            throw new MetricComputationException("invalid resource metric source: neither an average utilization target nor an average value (usage) target was set");
        }

        try
        {
            var podMetrics = await metrics.PodMetricsAsync(ns, selector, resource, cancellationToken).ConfigureAwait(false);
            var result = calculator.ResourceReplicas(currentReplicas, utilization, resource, targeted, podMetrics, now, up, down);
            return (result.Replicas, $"{resource} resource utilization (percentage of request)", new MetricValueStatus
            {
                AverageUtilization = result.Utilization,
                AverageValue = Quantity.FromMilli(result.AverageMilliValue),
            });
        }
        catch (MetricComputationException e)
        {
            throw new MetricComputationException($"failed to get {resource} utilization: {e.Message}");
        }
    }

    private (double Up, double Down) Tolerances(HorizontalPodAutoscalerBehavior? behavior) =>
        (behavior?.ScaleUp?.Tolerance?.ToDouble() ?? options.Tolerance, behavior?.ScaleDown?.Tolerance?.ToDouble() ?? options.Tolerance);

    [LoggerMessage(Level = LogLevel.Information, Message = "HorizontalPodAutoscaler {Namespace}/{Name}: scaled from {From} to {To} replicas ({Reason})")]
    private static partial void LogRescaled(ILogger logger, string? @namespace, string? name, int from, int to, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "HorizontalPodAutoscaler {Namespace}/{Name}: no replica count for {Target}: {Error}")]
    private static partial void LogMetricsFailed(ILogger logger, string? @namespace, string? name, string target, string error);
}
