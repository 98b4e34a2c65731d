using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.HorizontalPodAutoscalers;

namespace Kubesharp.ControllerManager.Tests.HorizontalPodAutoscalers;

public sealed class ReplicaCalculatorTests
{
    private static readonly DateTimeOffset Now = Objects.Epoch.AddHours(1);
    private static readonly ReplicaCalculator Calculator = new(new ReplicaCalculatorOptions());

    /// <summary>A pod requesting 100m CPU, running and Ready since long ago (or as given).</summary>
    private static Pod Pod(string name, string phase = "Running", bool ready = true, DateTimeOffset? started = null, DateTimeOffset? readySince = null, bool deleted = false, string? request = "100m") => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = "default", DeletionTimestamp = deleted ? Now : null },
        Spec = new PodSpec
        {
            Containers = [new Container
            {
                Name = "app",
                Image = "nginx",
                Resources = request is null ? null : new ResourceRequirements { Requests = new() { ["cpu"] = Quantity.Parse(request) } },
            }],
        },
        Status = new PodStatus
        {
            Phase = phase,
            StartTime = started ?? Now.AddHours(-1),
            Conditions = [new PodCondition { Type = "Ready", Status = ready ? "True" : "False", LastTransitionTime = readySince ?? Now.AddHours(-1) }],
        },
    };

    private static Dictionary<string, PodMetric> Usage(params (string Pod, long Milli)[] usage) =>
        usage.ToDictionary(u => u.Pod, u => new PodMetric(u.Milli, Now, TimeSpan.FromSeconds(15)));

    [Fact]
    public void ResourceReplicas_UsageTwiceTheTarget_ScalesByTheRatio()
    {
        var pods = new[] { Pod("a"), Pod("b"), Pod("c") };

        var result = Calculator.ResourceReplicas(3, 50, "cpu", pods, Usage(("a", 100), ("b", 100), ("c", 100)), Now, 0.1, 0.1);

        Assert.Equal(6, result.Replicas);
        Assert.Equal(100, result.Utilization);
        Assert.Equal(100, result.AverageMilliValue);
    }

    [Fact]
    public void ResourceReplicas_WithinTolerance_KeepsTheCurrentCount()
    {
        var pods = new[] { Pod("a"), Pod("b") };

        var result = Calculator.ResourceReplicas(2, 50, "cpu", pods, Usage(("a", 54), ("b", 54)), Now, 0.1, 0.1);

        Assert.Equal(2, result.Replicas);
        Assert.Equal(54, result.Utilization);
    }

    [Fact]
    public void ResourceReplicas_JustOutsideTolerance_Scales()
    {
        var pods = new[] { Pod("a"), Pod("b"), Pod("c"), Pod("d") };

        var result = Calculator.ResourceReplicas(4, 50, "cpu", pods, Usage(("a", 56), ("b", 56), ("c", 56), ("d", 56)), Now, 0.1, 0.1);

        Assert.Equal(5, result.Replicas);
    }

    [Fact]
    public void ResourceReplicas_MissingMetricsOnScaleDown_CountsThosePodsAsUsingTheirRequest()
    {
        var pods = new[] { Pod("a"), Pod("b"), Pod("c") };

        // Naively 0% of 50% → 0 pods; the pod without metrics is taken at 100%: 100m of 300m = 33% → ceil(0.66 × 3) = 2.
        var result = Calculator.ResourceReplicas(3, 50, "cpu", pods, Usage(("a", 0), ("b", 0)), Now, 0.1, 0.1);

        Assert.Equal(2, result.Replicas);
        Assert.Equal(0, result.Utilization);
    }

    [Fact]
    public void ResourceReplicas_UnreadyPodOnScaleUp_CountsAsIdleAndCanCancelTheChange()
    {
        // 60% of requests on the ready pods would ask for 3; the pending pod counted as idle makes it 40%: no scale-up.
        var pods = new[] { Pod("a"), Pod("b"), Pod("pending", phase: "Pending") };

        var result = Calculator.ResourceReplicas(3, 50, "cpu", pods, Usage(("a", 60), ("b", 60)), Now, 0.1, 0.1);

        Assert.Equal(3, result.Replicas);
    }

    [Fact]
    public void ResourceReplicas_CpuOfAPodReadyForLessThanAWindow_IsNotCounted()
    {
        var young = Pod("young", started: Now.AddMinutes(-1), readySince: Now.AddSeconds(-5));
        var pods = new[] { Pod("a"), young };

        // Only "a" counts (200%): ceil(4 × 1) = 4, and the young pod is idle in the correction: 200/200 = 100% → 2 × 2 = 4.
        var result = Calculator.ResourceReplicas(2, 50, "cpu", pods, Usage(("a", 200), ("young", 0)), Now, 0.1, 0.1);

        Assert.Equal(4, result.Replicas);
        Assert.Equal(200, result.Utilization);
    }

    [Fact]
    public void ResourceReplicas_MemoryOfAYoungPod_Counts()
    {
        var young = Pod("young", started: Now.AddMinutes(-1), readySince: Now.AddSeconds(-5)) with { };
        young.Spec!.Containers![0].Resources = new ResourceRequirements { Requests = new() { ["memory"] = Quantity.Parse("100Mi") } };
        var old = Pod("a");
        old.Spec!.Containers![0].Resources = new ResourceRequirements { Requests = new() { ["memory"] = Quantity.Parse("100Mi") } };
        var mi = Quantity.Parse("100Mi").MilliValue();

        var result = Calculator.ResourceReplicas(2, 100, "memory", [old, young], Usage(("a", 2 * mi), ("young", 2 * mi)), Now, 0.1, 0.1);

        Assert.Equal(4, result.Replicas);
    }

    [Fact]
    public void ResourceReplicas_DeletedAndFailedPods_AreIgnored()
    {
        var pods = new[] { Pod("a"), Pod("gone", deleted: true), Pod("failed", phase: "Failed") };

        var result = Calculator.ResourceReplicas(3, 50, "cpu", pods, Usage(("a", 100), ("gone", 0), ("failed", 0)), Now, 0.1, 0.1);

        Assert.Equal(2, result.Replicas);
    }

    [Fact]
    public void ResourceReplicas_NoPods_FailsWithUpstreamsMessage()
    {
        var e = Assert.Throws<MetricComputationException>(() => Calculator.ResourceReplicas(1, 50, "cpu", [], Usage(), Now, 0.1, 0.1));

        Assert.Equal("no pods returned by selector while calculating replica count", e.Message);
    }

    [Fact]
    public void ResourceReplicas_ContainerWithoutRequest_FailsWithUpstreamsMessage()
    {
        var e = Assert.Throws<MetricComputationException>(() => Calculator.ResourceReplicas(1, 50, "cpu", [Pod("a", request: null)], Usage(("a", 10)), Now, 0.1, 0.1));

        Assert.Equal("missing request for cpu in container app of Pod a", e.Message);
    }

    [Fact]
    public void ResourceReplicas_OnlyUnreadyPods_FailsWithUpstreamsMessage()
    {
        var e = Assert.Throws<MetricComputationException>(() => Calculator.ResourceReplicas(1, 50, "cpu", [Pod("a", ready: false, readySince: Now.AddMinutes(-59).AddSeconds(-50))], Usage(("a", 10)), Now, 0.1, 0.1));

        Assert.Equal("did not receive metrics for targeted pods (pods might be unready)", e.Message);
    }

    [Fact]
    public void RawResourceReplicas_AverageValueTwiceTheTarget_Doubles()
    {
        var pods = new[] { Pod("a"), Pod("b"), Pod("c"), Pod("d") };

        var result = Calculator.RawResourceReplicas(4, 250, "cpu", pods, Usage(("a", 500), ("b", 500), ("c", 500), ("d", 500)), Now, 0.1, 0.1);

        Assert.Equal(8, result.Replicas);
        Assert.Null(result.Utilization);
        Assert.Equal(500, result.AverageMilliValue);
    }

    [Fact]
    public void RawResourceReplicas_MissingPodOnScaleDown_CountsAtTheTarget()
    {
        var pods = new[] { Pod("a"), Pod("b"), Pod("c"), Pod("d") };

        // Average 100m of 250m: 0.4 → 2 naively; the missing pod at 250m: (300 + 250) / 4 = 137 → 0.55 → ceil(2.2) = 3.
        var result = Calculator.RawResourceReplicas(4, 250, "cpu", pods, Usage(("a", 100), ("b", 100), ("c", 100)), Now, 0.1, 0.1);

        Assert.Equal(3, result.Replicas);
    }

    [Fact]
    public void ResourceReplicas_ScaleUpToleranceOfItsOwn_KeepsTheCountWhereTheDefaultWouldScale()
    {
        var pods = new[] { Pod("a"), Pod("b") };

        var result = Calculator.ResourceReplicas(2, 50, "cpu", pods, Usage(("a", 70), ("b", 70)), Now, 0.5, 0.1);

        Assert.Equal(2, result.Replicas);
    }
}
