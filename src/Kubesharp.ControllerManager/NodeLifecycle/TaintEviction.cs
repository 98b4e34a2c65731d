using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.NodeLifecycle;

/// <summary>
/// When a pod must leave a node with NoExecute taints: at once when some taint is not tolerated, after the
/// shortest tolerationSeconds of the tolerations in use, or never when they tolerate forever.
/// </summary>
internal static class TaintEviction
{
    /// <returns>Null when the pod may stay; otherwise the time from which it is to be deleted.</returns>
    public static DateTimeOffset? EvictionTime(Pod pod, IReadOnlyList<Taint> nodeTaints, DateTimeOffset now)
    {
        var noExecute = nodeTaints.Where(t => t.Effect == TaintKeys.NoExecute).ToList();
        if (noExecute.Count == 0)
        {
            return null;
        }

        var tolerations = pod.Spec?.Tolerations ?? [];
        long? minSeconds = null;
        var forever = true;
        foreach (var taint in noExecute)
        {
            var matching = tolerations.Where(t => Tolerates(t, taint)).ToList();
            if (matching.Count == 0)
            {
                return now;
            }

            foreach (var toleration in matching)
            {
                if (toleration.TolerationSeconds is { } seconds)
                {
                    forever = false;
                    minSeconds = minSeconds is null ? seconds : Math.Min(minSeconds.Value, seconds);
                }
            }
        }

        if (forever || minSeconds is null)
        {
            return null;
        }

        if (minSeconds <= 0)
        {
            return now;
        }

        var since = noExecute.Select(t => t.TimeAdded ?? now).Min();
        return since.AddSeconds(minSeconds.Value);
    }

    public static bool Tolerates(Toleration toleration, Taint taint)
    {
        if (!string.IsNullOrEmpty(toleration.Effect) && toleration.Effect != taint.Effect)
        {
            return false;
        }

        if (!string.IsNullOrEmpty(toleration.Key) && toleration.Key != taint.Key)
        {
            return false;
        }

        return toleration.Operator switch
        {
            "Exists" => true,
            null or "" or "Equal" => !string.IsNullOrEmpty(toleration.Key) && (toleration.Value ?? string.Empty) == (taint.Value ?? string.Empty),
            _ => false,
        };
    }
}
