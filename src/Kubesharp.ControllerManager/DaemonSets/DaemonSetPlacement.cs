using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ControllerManager.NodeLifecycle;
using Kubesharp.ControllerManager.Selection;

namespace Kubesharp.ControllerManager.DaemonSets;

/// <summary>
/// Whether a DaemonSet's pod belongs on a node: the node must match the template's nodeName, nodeSelector and
/// required node affinity, and its NoSchedule and NoExecute taints must be tolerated (the daemon tolerations
/// included). A pod already there may stay while only NoSchedule taints are untolerated.
/// </summary>
internal static class DaemonSetPlacement
{
    public static (bool ShouldRun, bool ShouldContinueRunning) Evaluate(DaemonSet daemonSet, Node node)
    {
        var spec = DaemonPodTemplate.SpecWithTolerations(daemonSet.Spec?.Template?.Spec);
        if (spec.NodeName is { Length: > 0 } nodeName && nodeName != node.Metadata?.Name)
        {
            return (false, false);
        }

        if (!NodeSelectorEvaluator.RequiredMatches(spec, node))
        {
            return (false, false);
        }

        var tolerations = spec.Tolerations ?? [];
        var untolerated = (node.Spec?.Taints ?? [])
            .Where(t => t.Effect is TaintKeys.NoSchedule or TaintKeys.NoExecute)
            .Where(t => !tolerations.Any(tol => TaintEviction.Tolerates(tol, t)))
            .ToList();
        if (untolerated.Count == 0)
        {
            return (true, true);
        }

        return (false, !untolerated.Any(t => t.Effect == TaintKeys.NoExecute));
    }
}
