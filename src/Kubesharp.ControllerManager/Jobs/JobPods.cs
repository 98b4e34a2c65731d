using System.Globalization;
using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;

namespace Kubesharp.ControllerManager.Jobs;

/// <summary>The pods of a Job: how they are made, indexed, tracked and judged finished.</summary>
internal static class JobPods
{
    /// <summary>Keeps a finished pod until the Job has counted it.</summary>
    public const string TrackingFinalizer = "batch.kubernetes.io/job-tracking";

    public const string CompletionIndexKey = "batch.kubernetes.io/job-completion-index";

    public const string IndexFailureCountAnnotation = "batch.kubernetes.io/job-index-failure-count";

    public const string CompletionIndexEnv = "JOB_COMPLETION_INDEX";

    public static bool IsIndexed(Job job) => job.Spec?.CompletionMode == "Indexed";

    public static bool HasTrackingFinalizer(Pod pod) => pod.Metadata?.Finalizers?.Contains(TrackingFinalizer) == true;

    public static bool IsTerminal(Pod pod) => pod.Status?.Phase is "Succeeded" or "Failed";

    /// <summary>Running or pending and not being deleted.</summary>
    public static bool IsActive(Pod pod) => !IsTerminal(pod) && pod.Metadata?.DeletionTimestamp is null;

    /// <summary>Being deleted before it finished.</summary>
    public static bool IsTerminating(Pod pod) => !IsTerminal(pod) && pod.Metadata?.DeletionTimestamp is not null;

    /// <summary>Replacements wait for Failed (not merely deleted) pods when asked to, or when a failure policy decides.</summary>
    public static bool OnlyReplacesFailedPods(Job job) =>
        job.Spec?.PodReplacementPolicy == "Failed" || job.Spec?.PodFailurePolicy is not null;

    /// <summary>
    /// Whether the pod counts as a failure: Failed, or deleted before it succeeded (an orphan that never reaches
    /// Failed) unless only Failed pods are replaced.
    /// </summary>
    public static bool IsFailed(Pod pod, Job job)
    {
        if (pod.Status?.Phase == "Failed")
        {
            return true;
        }

        if (OnlyReplacesFailedPods(job))
        {
            return false;
        }

        return pod.Metadata?.DeletionTimestamp is not null && pod.Status?.Phase != "Succeeded";
    }

    /// <summary>The completion index a pod carries (annotation, else label), or null when it has none or a bad one.</summary>
    public static int? CompletionIndex(Pod pod)
    {
        var text = pod.Metadata?.Annotations?.GetValueOrDefault(CompletionIndexKey) ?? pod.Metadata?.Labels?.GetValueOrDefault(CompletionIndexKey);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : null;
    }

    /// <summary>How many pods of the pod's index failed before it (per-index backoff).</summary>
    public static int IndexFailureCount(Pod pod) =>
        int.TryParse(pod.Metadata?.Annotations?.GetValueOrDefault(IndexFailureCountAnnotation), NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;

    /// <summary>When the pod finished: its last container's end, else its last condition change, else its creation.</summary>
    public static DateTimeOffset FinishTime(Pod pod)
    {
        var ends = (pod.Status?.ContainerStatuses ?? []).Concat(pod.Status?.InitContainerStatuses ?? [])
            .Select(s => s.State?.Terminated?.FinishedAt)
            .Where(t => t is not null)
            .Select(t => t!.Value)
            .ToList();
        if (ends.Count > 0)
        {
            return ends.Max();
        }

        var transitions = (pod.Status?.Conditions ?? []).Select(c => c.LastTransitionTime).Where(t => t is not null).Select(t => t!.Value).ToList();
        if (transitions.Count > 0)
        {
            return transitions.Max();
        }

        return pod.Metadata?.CreationTimestamp ?? DateTimeOffset.MinValue;
    }

    /// <summary>
    /// A pod from the Job's template, controlled by the Job and carrying the tracking finalizer. An indexed pod
    /// carries its index (annotation, label, <c>JOB_COMPLETION_INDEX</c> from the annotation) and a host name per index.
    /// </summary>
    public static Pod New(Job job, int? index, int indexFailureCount)
    {
        var meta = job.Metadata ?? new ObjectMeta();
        var template = job.Spec?.Template ?? new PodTemplateSpec();
        var templateMeta = template.Metadata;
        var spec = template.Spec is { } s ? ObjectCopy.Clone(s) : new PodSpec();
        var labels = templateMeta?.Labels is { } l ? new Dictionary<string, string>(l) : [];
        var annotations = templateMeta?.Annotations is { } a ? new Dictionary<string, string>(a) : [];
        var generateName = meta.Name + "-";
        if (index is { } i)
        {
            var text = i.ToString(CultureInfo.InvariantCulture);
            generateName = $"{meta.Name}-{text}-";
            annotations[CompletionIndexKey] = text;
            labels[CompletionIndexKey] = text;
            if (job.Spec?.BackoffLimitPerIndex is not null)
            {
                annotations[IndexFailureCountAnnotation] = indexFailureCount.ToString(CultureInfo.InvariantCulture);
            }

            if (string.IsNullOrEmpty(spec.Hostname))
            {
                spec.Hostname = $"{meta.Name}-{text}";
            }

            foreach (var container in (spec.InitContainers ?? []).Concat(spec.Containers ?? []))
            {
                if (container.Env?.Any(e => e.Name == CompletionIndexEnv) == true)
                {
                    continue;
                }

                container.Env ??= [];
                container.Env.Add(new EnvVar
                {
                    Name = CompletionIndexEnv,
                    ValueFrom = new EnvVarSource { FieldRef = new ObjectFieldSelector { ApiVersion = "v1", FieldPath = $"metadata.annotations['{CompletionIndexKey}']" } },
                });
            }
        }

        return new Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new ObjectMeta
            {
                GenerateName = generateName,
                Namespace = meta.Namespace,
                Labels = labels.Count > 0 ? labels : null,
                Annotations = annotations.Count > 0 ? annotations : null,
                Finalizers = [.. templateMeta?.Finalizers ?? [], TrackingFinalizer],
                OwnerReferences = [ControllerRef.New(Job.KubeApiVersion, Job.KubeKind, meta)],
            },
            Spec = spec,
        };
    }
}
