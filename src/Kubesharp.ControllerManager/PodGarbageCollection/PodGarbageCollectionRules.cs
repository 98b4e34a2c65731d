using Kubesharp.Api.Core.V1;
using Kubesharp.ControllerManager.NodeLifecycle;
using Kubesharp.ControllerManager.Pods;

namespace Kubesharp.ControllerManager.PodGarbageCollection;

/// <summary>Which pods the pod garbage collector force-deletes, as upstream chooses them.</summary>
internal static class PodGarbageCollectionRules
{
    /// <summary>Terminated pods beyond the threshold, oldest first.</summary>
    public static IEnumerable<Pod> TerminatedOverThreshold(IEnumerable<Pod> pods, int threshold)
    {
        if (threshold <= 0)
        {
            return [];
        }

        var terminated = pods.Where(PodReadiness.IsTerminated).ToList();
        var excess = terminated.Count - threshold;
        return excess <= 0
            ? []
            : terminated.OrderBy(p => p.Metadata?.CreationTimestamp ?? DateTimeOffset.MinValue).ThenBy(p => p.Metadata?.Name, StringComparer.Ordinal).Take(excess).ToList();
    }

    /// <summary>Pods bound to nodes that do not exist.</summary>
    public static IEnumerable<Pod> Orphaned(IEnumerable<Pod> pods, Func<string, bool> nodeExists) =>
        pods.Where(p => p.Spec?.NodeName is { Length: > 0 } node && !nodeExists(node));

    /// <summary>Terminating pods never scheduled: no node agent will ever finish their deletion.</summary>
    public static IEnumerable<Pod> UnscheduledTerminating(IEnumerable<Pod> pods) =>
        pods.Where(p => p.Metadata?.DeletionTimestamp is not null && string.IsNullOrEmpty(p.Spec?.NodeName));

    /// <summary>
    /// Terminating pods on nodes that are not ready and were declared out of service: their node agent is known
    /// to be gone, so waiting for it would wait forever.
    /// </summary>
    public static IEnumerable<Pod> TerminatingOnOutOfServiceNodes(IEnumerable<Pod> pods, Func<string, Node?> node) =>
        pods.Where(p => p.Metadata?.DeletionTimestamp is not null && p.Spec?.NodeName is { Length: > 0 } name && node(name) is { } n && IsOutOfService(n));

    private static bool IsOutOfService(Node node) =>
        node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status != "True" &&
        node.Spec?.Taints?.Any(t => t.Key == TaintKeys.OutOfService) == true;
}
