namespace Kubesharp.Scheduler.Framework;

public enum FilterCode
{
    Success,

    /// <summary>The node does not fit now; preempting pods might make it fit.</summary>
    Unschedulable,

    /// <summary>The node cannot fit whatever is removed from it (taints, selectors, node name).</summary>
    UnschedulableAndUnresolvable,
}
