using Kubesharp.Api.Autoscaling.V2;
using Kubesharp.ControllerManager.HorizontalPodAutoscalers;
using Kubesharp.Scheduler.Tests;

namespace Kubesharp.ControllerManager.Tests.HorizontalPodAutoscalers;

public sealed class ReplicaNormalizerTests
{
    private readonly ManualTimeProvider time = new();

    private ReplicaNormalizer Normalizer() => new(time, TimeSpan.FromMinutes(5));

    private static HorizontalPodAutoscalerBehavior Behavior(HPAScalingRules? up = null, HPAScalingRules? down = null) => new() { ScaleUp = up, ScaleDown = down };

    private static HPAScalingRules Rules(int window, string select, params (string Type, int Value, int Period)[] policies) => new()
    {
        StabilizationWindowSeconds = window,
        SelectPolicy = select,
        Policies = [.. policies.Select(p => new HPAScalingPolicy { Type = p.Type, Value = p.Value, PeriodSeconds = p.Period })],
    };

    [Fact]
    public void Normalize_ScaleDownWithinTheWindow_KeepsTheHighestRecentRecommendation()
    {
        var normalizer = Normalizer();
        normalizer.RecordInitialRecommendation("ns/a", 5);

        var first = normalizer.Normalize("ns/a", 5, 2, 1, 10);
        time.Advance(TimeSpan.FromSeconds(299));
        var within = normalizer.Normalize("ns/a", 5, 2, 1, 10);
        time.Advance(TimeSpan.FromSeconds(2));
        var after = normalizer.Normalize("ns/a", 5, 2, 1, 10);

        Assert.Equal((5, "ScaleDownStabilized"), (first.Replicas, first.AbleToScaleReason));
        Assert.Equal("recent recommendations were higher than current one, applying the highest recent recommendation", first.AbleToScaleMessage);
        Assert.Equal(5, within.Replicas);
        Assert.Equal((2, "ReadyForNewScale", "recommended size matches current size"), (after.Replicas, after.AbleToScaleReason, after.AbleToScaleMessage));
    }

    [Fact]
    public void Normalize_FastScaleUp_IsLimitedToTwiceTheCurrentCountOrFour()
    {
        var normalizer = Normalizer();

        var fromThree = normalizer.Normalize("ns/a", 3, 20, 1, 50);
        var fromOne = normalizer.Normalize("ns/b", 1, 20, 1, 50);

        Assert.Equal((6, true, "ScaleUpLimit"), (fromThree.Replicas, fromThree.Limited, fromThree.LimitReason));
        Assert.Equal("the desired replica count is increasing faster than the maximum scale rate", fromThree.LimitMessage);
        Assert.Equal(4, fromOne.Replicas);
    }

    [Fact]
    public void Normalize_OutsideTheBounds_StopsAtThemWithUpstreamsReasons()
    {
        var normalizer = Normalizer();

        var tooMany = normalizer.Normalize("ns/a", 4, 7, 1, 5);
        var tooFew = normalizer.Normalize("ns/b", 3, 1, 2, 5);
        var within = normalizer.Normalize("ns/c", 3, 4, 1, 5);

        Assert.Equal((5, true, "TooManyReplicas", "the desired replica count is more than the maximum replica count"), (tooMany.Replicas, tooMany.Limited, tooMany.LimitReason, tooMany.LimitMessage));
        Assert.Equal((2, "TooFewReplicas"), (tooFew.Replicas, tooFew.LimitReason));
        Assert.Equal((4, false, "DesiredWithinRange", "the desired count is within the acceptable range"), (within.Replicas, within.Limited, within.LimitReason, within.LimitMessage));
    }

    [Fact]
    public void NormalizeWithBehavior_DefaultScaleUpPolicies_AllowTheLargerOfFourPodsAndDoublingPerPeriod()
    {
        var normalizer = Normalizer();
        var behavior = Behavior(Rules(0, "Max", ("Pods", 4, 15), ("Percent", 100, 15)), Rules(300, "Max", ("Percent", 100, 15)));
        normalizer.RecordInitialRecommendation("ns/a", 2);

        var first = normalizer.NormalizeWithBehavior("ns/a", behavior, 2, 20, 1, 50);
        normalizer.RecordScale("ns/a", behavior, 2, first.Replicas);
        var samePeriod = normalizer.NormalizeWithBehavior("ns/a", behavior, 6, 20, 1, 50);
        time.Advance(TimeSpan.FromSeconds(16));
        var nextPeriod = normalizer.NormalizeWithBehavior("ns/a", behavior, 6, 20, 1, 50);

        Assert.Equal((6, true, "ScaleUpLimit"), (first.Replicas, first.Limited, first.LimitReason));
        Assert.Equal(6, samePeriod.Replicas);
        Assert.Equal(12, nextPeriod.Replicas);
    }

    [Fact]
    public void NormalizeWithBehavior_SelectPolicyMin_TakesTheSmallerChange()
    {
        var normalizer = Normalizer();
        var behavior = Behavior(Rules(0, "Min", ("Pods", 4, 15), ("Percent", 100, 15)));

        var result = normalizer.NormalizeWithBehavior("ns/a", behavior, 2, 20, 1, 50);

        Assert.Equal(4, result.Replicas);
    }

    [Fact]
    public void NormalizeWithBehavior_ScaleDownPodsPolicy_RemovesAtMostThatManyPerPeriod()
    {
        var normalizer = Normalizer();
        var behavior = Behavior(down: Rules(0, "Max", ("Pods", 1, 60)));

        var first = normalizer.NormalizeWithBehavior("ns/a", behavior, 5, 1, 1, 10);
        normalizer.RecordScale("ns/a", behavior, 5, first.Replicas);
        time.Advance(TimeSpan.FromSeconds(30));
        var samePeriod = normalizer.NormalizeWithBehavior("ns/a", behavior, 4, 1, 1, 10);
        time.Advance(TimeSpan.FromSeconds(31));
        var nextPeriod = normalizer.NormalizeWithBehavior("ns/a", behavior, 4, 1, 1, 10);

        Assert.Equal((4, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"), (first.Replicas, first.LimitReason, first.LimitMessage));
        Assert.Equal(4, samePeriod.Replicas);
        Assert.Equal(3, nextPeriod.Replicas);
    }

    [Fact]
    public void NormalizeWithBehavior_ScaleUpWindow_AppliesTheLowestRecentRecommendation()
    {
        var normalizer = Normalizer();
        var behavior = Behavior(Rules(60, "Max", ("Percent", 100, 15)));
        normalizer.RecordInitialRecommendation("ns/a", 3);

        var within = normalizer.NormalizeWithBehavior("ns/a", behavior, 3, 6, 1, 10);
        time.Advance(TimeSpan.FromSeconds(61));
        var after = normalizer.NormalizeWithBehavior("ns/a", behavior, 3, 6, 1, 10);

        Assert.Equal((3, "ScaleUpStabilized"), (within.Replicas, within.AbleToScaleReason));
        Assert.Equal("recent recommendations were lower than current one, applying the lowest recent recommendation", within.AbleToScaleMessage);
        Assert.Equal((6, "ReadyForNewScale"), (after.Replicas, after.AbleToScaleReason));
    }

    [Fact]
    public void NormalizeWithBehavior_ScaleDownDisabled_NeverShrinks()
    {
        var normalizer = Normalizer();
        var behavior = Behavior(down: Rules(0, "Disabled", ("Percent", 100, 15)));

        var result = normalizer.NormalizeWithBehavior("ns/a", behavior, 5, 1, 1, 10);

        Assert.Equal(5, result.Replicas);
    }

    [Fact]
    public void NormalizeWithBehavior_ShortScaleDownWindow_ScalesDownOnceItPassed()
    {
        var normalizer = Normalizer();
        var behavior = Behavior(down: Rules(5, "Max", ("Percent", 100, 15)));
        normalizer.RecordInitialRecommendation("ns/a", 4);

        var within = normalizer.NormalizeWithBehavior("ns/a", behavior, 4, 1, 1, 10);
        time.Advance(TimeSpan.FromSeconds(6));
        var after = normalizer.NormalizeWithBehavior("ns/a", behavior, 4, 1, 1, 10);

        Assert.Equal((4, "ScaleDownStabilized"), (within.Replicas, within.AbleToScaleReason));
        Assert.Equal(1, after.Replicas);
    }

    [Fact]
    public void Forget_DropsTheHistory()
    {
        var normalizer = Normalizer();
        normalizer.RecordInitialRecommendation("ns/a", 5);
        normalizer.Forget("ns/a");

        var result = normalizer.Normalize("ns/a", 5, 2, 1, 10);

        Assert.Equal(2, result.Replicas);
    }
}
