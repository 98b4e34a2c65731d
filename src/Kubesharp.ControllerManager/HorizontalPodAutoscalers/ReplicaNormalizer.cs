using System.Collections.Concurrent;
using Kubesharp.Api.Autoscaling.V2;

namespace Kubesharp.ControllerManager.HorizontalPodAutoscalers;

/// <summary>
/// Turns the metrics' recommendation into the count to scale to, by upstream's rules. Every autoscaler keeps its recent
/// recommendations (for the stabilization windows) and its recent scale events (for the rate policies), in memory like
/// upstream's controller. Without <c>spec.behavior</c> only scale-downs are stabilized (over the controller's window) and a
/// scale-up goes at most to max(2 × current, 4); with it, each direction has its window, policies and selectPolicy.
/// </summary>
internal sealed class ReplicaNormalizer(TimeProvider time, TimeSpan downscaleStabilizationWindow)
{
    private const string RecommendedSizeMatches = "recommended size matches current size";
    private readonly ConcurrentDictionary<string, History> histories = new(StringComparer.Ordinal);

    /// <summary>Starts an autoscaler's recommendations with the current count, so its first scale-down is stabilized too.</summary>
    public void RecordInitialRecommendation(string key, int currentReplicas)
    {
        var history = histories.GetOrAdd(key, _ => new History());
        lock (history)
        {
            if (history.Recommendations.Count == 0)
            {
                history.Recommendations.Add(new Timestamped(currentReplicas, time.GetUtcNow()));
            }
        }
    }

    /// <summary>Forgets a deleted autoscaler.</summary>
    public void Forget(string key) => histories.TryRemove(key, out _);

    /// <summary>Without behavior: the highest recommendation of the window, within [min, min(max, max(2 × current, 4))].</summary>
    public NormalizedReplicas Normalize(string key, int currentReplicas, int desiredReplicas, int minReplicas, int maxReplicas)
    {
        var history = histories.GetOrAdd(key, _ => new History());
        var now = time.GetUtcNow();
        int stabilized;
        lock (history)
        {
            stabilized = desiredReplicas;
            var cutoff = now - downscaleStabilizationWindow;
            var oldIndex = -1;
            for (var i = 0; i < history.Recommendations.Count; i++)
            {
                var recommendation = history.Recommendations[i];
                if (recommendation.Time < cutoff)
                {
                    oldIndex = i;
                }
                else if (recommendation.Value > stabilized)
                {
                    stabilized = recommendation.Value;
                }
            }

            Record(history.Recommendations, oldIndex, new Timestamped(desiredReplicas, now));
        }

        var (ableReason, ableMessage) = stabilized != desiredReplicas
            ? ("ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation")
            : ("ReadyForNewScale", RecommendedSizeMatches);
        var scaleUpLimit = Math.Max(2 * currentReplicas, 4);
        var (maximum, reason, message) = maxReplicas > scaleUpLimit
            ? (scaleUpLimit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate")
            : (maxReplicas, "TooManyReplicas", "the desired replica count is more than the maximum replica count");
        var replicas = stabilized;
        if (stabilized < minReplicas)
        {
            (replicas, reason, message) = (minReplicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count");
        }
        else if (stabilized > maximum)
        {
            replicas = maximum;
        }
        else
        {
            (reason, message) = ("DesiredWithinRange", "the desired count is within the acceptable range");
        }

        return new NormalizedReplicas(replicas, ableReason, ableMessage, replicas != stabilized, reason, message);
    }

    /// <summary>With behavior: stabilized between the lowest recommendation of the up window and the highest of the down window, then rate-limited.</summary>
    public NormalizedReplicas NormalizeWithBehavior(string key, HorizontalPodAutoscalerBehavior behavior, int currentReplicas, int desiredReplicas, int minReplicas, int maxReplicas)
    {
        var scaleUp = ScaleUpRules(behavior.ScaleUp);
        var scaleDown = ScaleDownRules(behavior.ScaleDown, downscaleStabilizationWindow);
        var history = histories.GetOrAdd(key, _ => new History());
        var now = time.GetUtcNow();
        int stabilized;
        int replicas;
        string reason, message;
        lock (history)
        {
            var upCutoff = now - TimeSpan.FromSeconds(scaleUp.StabilizationWindowSeconds ?? 0);
            var downCutoff = now - TimeSpan.FromSeconds(scaleDown.StabilizationWindowSeconds ?? 0);
            var up = desiredReplicas;
            var down = desiredReplicas;
            var oldIndex = -1;
            for (var i = 0; i < history.Recommendations.Count; i++)
            {
                var recommendation = history.Recommendations[i];
                if (recommendation.Time > upCutoff)
                {
                    up = Math.Min(up, recommendation.Value);
                }

                if (recommendation.Time > downCutoff)
                {
                    down = Math.Max(down, recommendation.Value);
                }

                if (recommendation.Time < upCutoff && recommendation.Time < downCutoff)
                {
                    oldIndex = i;
                }
            }

            stabilized = Math.Min(Math.Max(currentReplicas, up), down);
            Record(history.Recommendations, oldIndex, new Timestamped(desiredReplicas, now));
            (replicas, reason, message) = Limit(history, scaleUp, scaleDown, currentReplicas, stabilized, minReplicas, maxReplicas, now);
        }

        var (ableReason, ableMessage) = stabilized == desiredReplicas
            ? ("ReadyForNewScale", RecommendedSizeMatches)
            : desiredReplicas >= currentReplicas
                ? ("ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation")
                : ("ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation");
        return new NormalizedReplicas(replicas, ableReason, ableMessage, replicas != stabilized, reason, message);
    }

    /// <summary>Remembers a scale made, for the rate policies of later ones (only autoscalers with behavior use them).</summary>
    public void RecordScale(string key, HorizontalPodAutoscalerBehavior? behavior, int previousReplicas, int newReplicas)
    {
        if (behavior is null || previousReplicas == newReplicas)
        {
            return;
        }

        var history = histories.GetOrAdd(key, _ => new History());
        var now = time.GetUtcNow();
        lock (history)
        {
            var (events, rules) = newReplicas > previousReplicas
                ? (history.ScaleUpEvents, ScaleUpRules(behavior.ScaleUp))
                : (history.ScaleDownEvents, ScaleDownRules(behavior.ScaleDown, downscaleStabilizationWindow));
            var longest = (rules.Policies ?? []).Select(p => p.PeriodSeconds ?? 0).DefaultIfEmpty(0).Max();
            var cutoff = now - TimeSpan.FromSeconds(longest);
            events.RemoveAll(e => e.Time < cutoff);
            events.Add(new Timestamped(Math.Abs(newReplicas - previousReplicas), now));
        }
    }

    private static (int Replicas, string Reason, string Message) Limit(
        History history, HPAScalingRules scaleUp, HPAScalingRules scaleDown, int current, int desired, int min, int max, DateTimeOffset now)
    {
        if (desired > current)
        {
            var limit = Math.Max(ScaleUpLimit(current, history, scaleUp, now), current);
            var (maximum, reason, message) = max > limit
                ? (limit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate")
                : (max, "TooManyReplicas", "the desired replica count is more than the maximum replica count");
            if (desired > maximum)
            {
                return (maximum, reason, message);
            }
        }
        else if (desired < current)
        {
            var limit = Math.Min(ScaleDownLimit(current, history, scaleDown, now), current);
            var (minimum, reason, message) = min < limit
                ? (limit, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate")
                : (min, "TooFewReplicas", "the desired replica count is less than the minimum replica count");
            if (desired < minimum)
            {
                return (minimum, reason, message);
            }
        }

        return (desired, "DesiredWithinRange", "the desired count is within the acceptable range");
    }

    private static int ScaleUpLimit(int current, History history, HPAScalingRules rules, DateTimeOffset now)
    {
        if (rules.SelectPolicy == "Disabled")
        {
            return current;
        }

        var useMin = rules.SelectPolicy == "Min";
        long result = useMin ? int.MaxValue : int.MinValue;
        foreach (var policy in rules.Policies ?? [])
        {
            var start = PeriodStartReplicas(current, history, policy, now);
            long proposed = policy.Type == "Pods"
                ? start + (policy.Value ?? 0)
                : (long)Math.Ceiling(start * (1 + ((policy.Value ?? 0) / 100.0)));
            result = useMin ? Math.Min(result, proposed) : Math.Max(result, proposed);
        }

        return (int)Math.Clamp(result, int.MinValue, int.MaxValue);
    }

    private static int ScaleDownLimit(int current, History history, HPAScalingRules rules, DateTimeOffset now)
    {
        if (rules.SelectPolicy == "Disabled")
        {
            return current;
        }

        // The "Min" policy changes least, which for a scale-down is the highest floor.
        var useMin = rules.SelectPolicy == "Min";
        long result = useMin ? int.MinValue : int.MaxValue;
        foreach (var policy in rules.Policies ?? [])
        {
            var start = PeriodStartReplicas(current, history, policy, now);
            long proposed = policy.Type == "Pods"
                ? start - (policy.Value ?? 0)
                : (long)(start * (1 - ((policy.Value ?? 0) / 100.0)));
            result = useMin ? Math.Max(result, proposed) : Math.Min(result, proposed);
        }

        return (int)Math.Clamp(result, int.MinValue, int.MaxValue);
    }

    /// <summary>The count at the start of the policy's period: now, less what was added and plus what was removed since.</summary>
    private static long PeriodStartReplicas(int current, History history, HPAScalingPolicy policy, DateTimeOffset now)
    {
        var cutoff = now - TimeSpan.FromSeconds(policy.PeriodSeconds ?? 0);
        long added = history.ScaleUpEvents.Where(e => e.Time > cutoff).Sum(e => (long)e.Value);
        long removed = history.ScaleDownEvents.Where(e => e.Time > cutoff).Sum(e => (long)e.Value);
        return current - added + removed;
    }

    private static void Record(List<Timestamped> recommendations, int oldIndex, Timestamped recommendation)
    {
        if (oldIndex >= 0)
        {
            recommendations[oldIndex] = recommendation;
        }
        else
        {
            recommendations.Add(recommendation);
        }
    }

    /// <summary>Upstream's scale-up defaults for what a behavior leaves out (the server fills them in; older objects may lack them).</summary>
    private static HPAScalingRules ScaleUpRules(HPAScalingRules? rules) => new()
    {
        StabilizationWindowSeconds = rules?.StabilizationWindowSeconds ?? 0,
        SelectPolicy = rules?.SelectPolicy ?? "Max",
        Policies = rules?.Policies ??
        [
            new HPAScalingPolicy { Type = "Pods", Value = 4, PeriodSeconds = 15 },
            new HPAScalingPolicy { Type = "Percent", Value = 100, PeriodSeconds = 15 },
        ],
    };

    private static HPAScalingRules ScaleDownRules(HPAScalingRules? rules, TimeSpan window) => new()
    {
        StabilizationWindowSeconds = rules?.StabilizationWindowSeconds ?? (int)window.TotalSeconds,
        SelectPolicy = rules?.SelectPolicy ?? "Max",
        Policies = rules?.Policies ?? [new HPAScalingPolicy { Type = "Percent", Value = 100, PeriodSeconds = 15 }],
    };

    private readonly record struct Timestamped(int Value, DateTimeOffset Time);

    private sealed class History
    {
        public List<Timestamped> Recommendations { get; } = [];

        public List<Timestamped> ScaleUpEvents { get; } = [];

        public List<Timestamped> ScaleDownEvents { get; } = [];
    }
}
