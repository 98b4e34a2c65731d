using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.NodeLifecycle;

/// <summary>
/// The taints a node should carry for its conditions: not-ready or unreachable (NoSchedule and NoExecute) by
/// its Ready condition, NoSchedule taints for pressure conditions and cordoning. Taints set by others are kept.
/// </summary>
internal static class NodeTaints
{
    private static readonly (string Key, string Effect)[] Managed =
    [
        (TaintKeys.NotReady, TaintKeys.NoSchedule), (TaintKeys.NotReady, TaintKeys.NoExecute),
        (TaintKeys.Unreachable, TaintKeys.NoSchedule), (TaintKeys.Unreachable, TaintKeys.NoExecute),
        (TaintKeys.Unschedulable, TaintKeys.NoSchedule), (TaintKeys.MemoryPressure, TaintKeys.NoSchedule),
        (TaintKeys.DiskPressure, TaintKeys.NoSchedule), (TaintKeys.PidPressure, TaintKeys.NoSchedule),
        (TaintKeys.NetworkUnavailable, TaintKeys.NoSchedule),
    ];

    public static List<Taint> Desired(Node node, DateTimeOffset now)
    {
        var current = node.Spec?.Taints ?? [];
        var wanted = new List<(string Key, string Effect)>();
        var ready = Condition(node, "Ready");
        if (ready == "False")
        {
            wanted.Add((TaintKeys.NotReady, TaintKeys.NoSchedule));
            wanted.Add((TaintKeys.NotReady, TaintKeys.NoExecute));
        }
        else if (ready == "Unknown")
        {
            wanted.Add((TaintKeys.Unreachable, TaintKeys.NoSchedule));
            wanted.Add((TaintKeys.Unreachable, TaintKeys.NoExecute));
        }

        if (node.Spec?.Unschedulable == true)
        {
            wanted.Add((TaintKeys.Unschedulable, TaintKeys.NoSchedule));
        }

        if (Condition(node, "MemoryPressure") == "True")
        {
            wanted.Add((TaintKeys.MemoryPressure, TaintKeys.NoSchedule));
        }

        if (Condition(node, "DiskPressure") == "True")
        {
            wanted.Add((TaintKeys.DiskPressure, TaintKeys.NoSchedule));
        }

        if (Condition(node, "PIDPressure") == "True")
        {
            wanted.Add((TaintKeys.PidPressure, TaintKeys.NoSchedule));
        }

        if (Condition(node, "NetworkUnavailable") == "True")
        {
            wanted.Add((TaintKeys.NetworkUnavailable, TaintKeys.NoSchedule));
        }

        var result = current.Where(t => !Managed.Contains((t.Key ?? string.Empty, t.Effect ?? string.Empty)) || wanted.Contains((t.Key!, t.Effect!))).ToList();
        foreach (var (key, effect) in wanted)
        {
            if (!result.Any(t => t.Key == key && t.Effect == effect))
            {
                result.Add(new Taint { Key = key, Effect = effect, TimeAdded = effect == TaintKeys.NoExecute ? now : null });
            }
        }

        return result;
    }

    public static bool SameTaints(IReadOnlyList<Taint>? left, IReadOnlyList<Taint>? right)
    {
        var a = left ?? [];
        var b = right ?? [];
        return a.Count == b.Count && a.All(t => b.Any(u => u.Key == t.Key && u.Effect == t.Effect && u.Value == t.Value));
    }

    private static string? Condition(Node node, string type) => node.Status?.Conditions?.FirstOrDefault(c => c.Type == type)?.Status;
}
