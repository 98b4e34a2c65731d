using Kubesharp.Api.Coordination.V1;
using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.NodeLifecycle;

/// <summary>
/// Tracks node heartbeats (Lease renewals and Ready condition heartbeats) by when this controller saw them
/// change, so clock skew between node and control plane does not matter, and marks silent nodes Unknown.
/// </summary>
internal sealed class NodeHealth
{
    private static readonly string[] StatusConditions = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

    private readonly Dictionary<string, Observation> observations = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    /// <summary>When the node was last seen alive, by this controller's clock.</summary>
    public DateTimeOffset Observe(Node node, Lease? lease, DateTimeOffset now)
    {
        var name = node.Metadata?.Name ?? string.Empty;
        var heartbeat = node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.LastHeartbeatTime;
        var renew = lease?.Spec?.RenewTime;
        lock (gate)
        {
            if (!observations.TryGetValue(name, out var seen))
            {
                var probe = heartbeat is null && renew is null ? node.Metadata?.CreationTimestamp ?? now : now;
                observations[name] = new Observation(heartbeat, renew, probe);
                return probe;
            }

            if (heartbeat != seen.Heartbeat || renew != seen.Renew)
            {
                seen = new Observation(heartbeat, renew, now);
                observations[name] = seen;
            }

            return seen.Probe;
        }
    }

    public void Forget(string nodeName)
    {
        lock (gate)
        {
            observations.Remove(nodeName);
        }
    }

    /// <summary>Sets the node's status conditions to Unknown; false when they already are.</summary>
    public static bool MarkUnknown(Node node, DateTimeOffset now)
    {
        node.Status ??= new NodeStatus();
        node.Status.Conditions ??= [];
        var changed = false;
        foreach (var type in StatusConditions)
        {
            var condition = node.Status.Conditions.FirstOrDefault(c => c.Type == type);
            if (condition is null)
            {
                node.Status.Conditions.Add(new NodeCondition
                {
                    Type = type,
                    Status = "Unknown",
                    Reason = "NodeStatusNeverUpdated",
                    Message = "Kubelet never posted node status.",
                    LastHeartbeatTime = node.Metadata?.CreationTimestamp,
                    LastTransitionTime = now,
                });
                changed = true;
            }
            else if (condition.Status != "Unknown")
            {
                condition.Status = "Unknown";
                condition.Reason = "NodeStatusUnknown";
                condition.Message = "Kubelet stopped posting node status.";
                condition.LastTransitionTime = now;
                changed = true;
            }
        }

        return changed;
    }

    private sealed record Observation(DateTimeOffset? Heartbeat, DateTimeOffset? Renew, DateTimeOffset Probe);
}
