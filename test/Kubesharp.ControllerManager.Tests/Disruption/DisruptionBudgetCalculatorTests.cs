using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Policy.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.Disruption;

namespace Kubesharp.ControllerManager.Tests.Disruption;

public sealed class DisruptionBudgetCalculatorTests
{
    private static readonly DateTimeOffset Now = Objects.Epoch.AddHours(1);

    private static PodDisruptionBudget Budget(IntOrString? minAvailable = null, IntOrString? maxUnavailable = null) => new()
    {
        Metadata = new ObjectMeta { Name = "pdb", Namespace = "default", Generation = 2 },
        Spec = new PodDisruptionBudgetSpec { MinAvailable = minAvailable, MaxUnavailable = maxUnavailable, Selector = new LabelSelector { MatchLabels = new() { ["app"] = "web" } } },
    };

    private static List<Pod> Pods(int ready, int notReady) =>
        [.. Enumerable.Range(0, ready).Select(i => Objects.Pod($"r{i}", "n", owner: "rs")), .. Enumerable.Range(0, notReady).Select(i => Objects.Pod($"u{i}", "n", ready: false, owner: "rs"))];

    [Fact]
    public void Calculate_MinAvailableInteger_AllowsHealthyMinusMin()
    {
        var status = DisruptionBudgetCalculator.Calculate(Budget(minAvailable: 2), Pods(3, 1), (_, _) => null, Now);

        Assert.Equal((3, 2, 4, 1), (status.CurrentHealthy, status.DesiredHealthy, status.ExpectedPods, status.DisruptionsAllowed));
        Assert.Equal(2, status.ObservedGeneration);
        var condition = Assert.Single(status.Conditions!);
        Assert.Equal(("DisruptionAllowed", "True", "SufficientPods"), (condition.Type, condition.Status, condition.Reason));
    }

    [Fact]
    public void Calculate_MaxUnavailablePercent_UsesControllerScaleRoundingUp()
    {
        var status = DisruptionBudgetCalculator.Calculate(Budget(maxUnavailable: "30%"), Pods(5, 0), (_, _) => 5, Now);

        // 30% of 5 rounds up to 2 unavailable: 3 must stay healthy.
        Assert.Equal((5, 3, 5, 2), (status.CurrentHealthy, status.DesiredHealthy, status.ExpectedPods, status.DisruptionsAllowed));
    }

    [Fact]
    public void Calculate_NoDisruptionsLeft_InsufficientPods()
    {
        var status = DisruptionBudgetCalculator.Calculate(Budget(minAvailable: 3), Pods(3, 0), (_, _) => null, Now);

        Assert.Equal(0, status.DisruptionsAllowed);
        Assert.Equal("InsufficientPods", status.Conditions!.Single().Reason);
    }

    [Fact]
    public void Calculate_PodWithoutController_FailsSafeWithZeroAllowed()
    {
        var pods = Pods(3, 0);
        pods[0].Metadata!.OwnerReferences = null;

        var status = DisruptionBudgetCalculator.Calculate(Budget(maxUnavailable: 1), pods, (_, _) => 3, Now);

        Assert.Equal(0, status.DisruptionsAllowed);
        Assert.Equal("SyncFailed", status.Conditions!.Single().Reason);
    }

    [Fact]
    public void Calculate_RecentlyEvictedPod_NotCountedHealthyUntilExpiry()
    {
        var pdb = Budget(minAvailable: 1);
        pdb.Status = new PodDisruptionBudgetStatus { DisruptedPods = new() { ["r0"] = Now.AddSeconds(-30), ["gone"] = Now } };

        var status = DisruptionBudgetCalculator.Calculate(pdb, Pods(2, 0), (_, _) => null, Now);

        Assert.Equal(1, status.CurrentHealthy);
        Assert.Equal(["r0"], status.DisruptedPods!.Keys);
        Assert.Equal(TimeSpan.FromSeconds(90), DisruptionBudgetCalculator.NextExpiry(status, Now));
        var later = DisruptionBudgetCalculator.Calculate(pdb, Pods(2, 0), (_, _) => null, Now.AddMinutes(2));
        Assert.Equal(2, later.CurrentHealthy);
        Assert.Null(later.DisruptedPods);
    }
}
