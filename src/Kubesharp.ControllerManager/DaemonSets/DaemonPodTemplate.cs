using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.ControllerRevisions;
using Kubesharp.ControllerManager.NodeLifecycle;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;

namespace Kubesharp.ControllerManager.DaemonSets;

/// <summary>
/// A DaemonSet's pod for one node, as upstream builds it: the template plus the tolerations every daemon pod gets
/// (not-ready and unreachable NoExecute; disk, memory and PID pressure, unschedulable, and for hostNetwork pods
/// network-unavailable, NoSchedule), the revision labels, and a required node affinity on <c>metadata.name</c>
/// that pins it to the node for the scheduler to bind.
/// </summary>
internal static class DaemonPodTemplate
{
    public const string TemplateGenerationLabel = "pod-template-generation";
    public const string TemplateGenerationAnnotation = "deprecated.daemonset.template.generation";

    public static long? TemplateGeneration(DaemonSet daemonSet) =>
        daemonSet.Metadata?.Annotations?.GetValueOrDefault(TemplateGenerationAnnotation) is { } value && long.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var generation)
            ? generation
            : null;

    /// <summary>The template's pod spec with the daemon tolerations added (or replaced, when the template names them).</summary>
    public static PodSpec SpecWithTolerations(PodSpec? template)
    {
        var spec = template is null ? new PodSpec() : ObjectCopy.Clone(template);
        var tolerations = spec.Tolerations ?? [];
        void Add(string key, string effect)
        {
            tolerations.RemoveAll(t => t.Key == key && t.Effect == effect);
            tolerations.Add(new Toleration { Key = key, Operator = "Exists", Effect = effect });
        }

        Add(TaintKeys.NotReady, TaintKeys.NoExecute);
        Add(TaintKeys.Unreachable, TaintKeys.NoExecute);
        Add(TaintKeys.DiskPressure, TaintKeys.NoSchedule);
        Add(TaintKeys.MemoryPressure, TaintKeys.NoSchedule);
        Add(TaintKeys.PidPressure, TaintKeys.NoSchedule);
        Add(TaintKeys.Unschedulable, TaintKeys.NoSchedule);
        if (spec.HostNetwork == true)
        {
            Add(TaintKeys.NetworkUnavailable, TaintKeys.NoSchedule);
        }

        spec.Tolerations = tolerations;
        return spec;
    }

    /// <summary>The pod to create on <paramref name="nodeName"/>.</summary>
    public static Pod NewPod(DaemonSet daemonSet, string hash, string nodeName)
    {
        var meta = daemonSet.Metadata ?? new ObjectMeta();
        var template = daemonSet.Spec?.Template;
        var labels = template?.Metadata?.Labels is { } templateLabels ? new Dictionary<string, string>(templateLabels) : [];
        if (TemplateGeneration(daemonSet) is { } generation)
        {
            labels[TemplateGenerationLabel] = generation.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        labels[ControllerRevisionHistory.HashLabel] = hash;
        var spec = SpecWithTolerations(template?.Spec);
        spec.Affinity ??= new Affinity();
        spec.Affinity.NodeAffinity ??= new NodeAffinity();

        // The controller has checked the node against the template's own terms; the pod needs only its node.
        spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = new NodeSelector
        {
            NodeSelectorTerms =
            [
                new NodeSelectorTerm { MatchFields = [new NodeSelectorRequirement { Key = "metadata.name", Operator = "In", Values = [nodeName] }] },
            ],
        };
        return new Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new ObjectMeta
            {
                GenerateName = meta.Name + "-",
                Namespace = meta.Namespace,
                Labels = labels,
                Annotations = template?.Metadata?.Annotations is { } annotations ? new Dictionary<string, string>(annotations) : null,
                Finalizers = template?.Metadata?.Finalizers is { } finalizers ? [.. finalizers] : null,
                OwnerReferences = [ControllerRef.New(DaemonSet.KubeApiVersion, DaemonSet.KubeKind, meta)],
            },
            Spec = spec,
        };
    }

    /// <summary>The node a daemon pod is bound to, or the node its affinity pins it to while it is not yet bound.</summary>
    public static string? NodeOf(Pod pod)
    {
        if (pod.Spec?.NodeName is { Length: > 0 } bound)
        {
            return bound;
        }

        var terms = pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        return terms?.SelectMany(t => t.MatchFields ?? [])
            .FirstOrDefault(f => f.Key == "metadata.name" && f.Operator == "In" && f.Values is { Count: 1 })?.Values![0];
    }

    /// <summary>A pod is of the current template when its hash (or, for older pods, its template generation) matches.</summary>
    public static bool IsUpdated(Pod pod, string hash, long? generation)
    {
        var labels = pod.Metadata?.Labels;
        var hashMatches = labels?.GetValueOrDefault(ControllerRevisionHistory.HashLabel) == hash;
        var generationMatches = generation is { } g && labels?.GetValueOrDefault(TemplateGenerationLabel) == g.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return hashMatches || generationMatches;
    }
}
