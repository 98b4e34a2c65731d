using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.DaemonSets;

/// <summary>
/// What one sync of a DaemonSet does: the nodes that get a new pod, the pods to delete, failed pods (deleted
/// unless their node is in backoff), the status it observed, and when a pod becomes available by time alone.
/// </summary>
internal sealed record DaemonSetPlan(
    IReadOnlyList<string> NodesToCreate,
    IReadOnlyList<Pod> PodsToDelete,
    IReadOnlyList<(string Node, Pod Pod)> FailedPods,
    DaemonSetStatus Status,
    TimeSpan? RequeueAfter);
