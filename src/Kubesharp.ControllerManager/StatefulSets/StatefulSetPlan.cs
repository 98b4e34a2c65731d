using Kubesharp.Api.Apps.V1;

namespace Kubesharp.ControllerManager.StatefulSets;

/// <summary>
/// What one sync of a StatefulSet does: pod changes in order (the controller stops at the first that fails),
/// the status observed before them, and when to look again for a pod that becomes available by time alone.
/// </summary>
internal sealed record StatefulSetPlan(IReadOnlyList<StatefulSetAction> Actions, StatefulSetStatus Status, TimeSpan? RequeueAfter);
