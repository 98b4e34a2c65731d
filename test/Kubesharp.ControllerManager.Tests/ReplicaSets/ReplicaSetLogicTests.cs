using Kubesharp.Api.Apps.V1;
using Kubesharp.ControllerManager.Pods;
using Kubesharp.ControllerManager.ReplicaSets;

namespace Kubesharp.ControllerManager.Tests.ReplicaSets;

public sealed class ReplicaSetLogicTests
{
    private static readonly DateTimeOffset Now = Objects.Epoch.AddHours(1);

    [Fact]
    public void Plan_TooFewPods_CreatesTheDifference()
    {
        var (create, delete) = ReplicaSetScaling.Plan(Objects.ReplicaSet("rs", 3), [Objects.Pod("a", "n")], []);

        Assert.Equal(2, create);
        Assert.Empty(delete);
    }

    [Fact]
    public void Plan_TooManyPods_DeletesMostExpendableFirst()
    {
        var pods = new[]
        {
            Objects.Pod("ready-old", "n1", readySince: Now.AddHours(-2), created: Now.AddHours(-3)),
            Objects.Pod("unscheduled", phase: "Pending", ready: false),
            Objects.Pod("not-ready", "n1", ready: false),
            Objects.Pod("ready-new", "n1", readySince: Now.AddMinutes(-1), created: Now.AddMinutes(-2)),
        };

        var (create, delete) = ReplicaSetScaling.Plan(Objects.ReplicaSet("rs", 1), pods, []);

        Assert.Equal(0, create);
        Assert.Equal(["unscheduled", "not-ready", "ready-new"], delete.Select(p => p.Metadata!.Name));
    }

    [Fact]
    public void Select_PodsDoubledUpWithRelatedPods_GoFirst()
    {
        var pods = new[] { Objects.Pod("alone", "n1"), Objects.Pod("crowded", "n2") };
        var related = new[] { Objects.Pod("sibling", "n2") };

        Assert.Equal("crowded", PodDeletionOrder.Select(pods, related, 1).Single().Metadata!.Name);
    }

    [Fact]
    public void Select_DeletionCostAnnotation_LowerCostFirst()
    {
        var cheap = Objects.Pod("cheap", "n1");
        cheap.Metadata!.Annotations = new() { [PodDeletionOrder.DeletionCostAnnotation] = "-10" };
        var pods = new[] { Objects.Pod("normal", "n1", created: Now), cheap };

        Assert.Equal("cheap", PodDeletionOrder.Select(pods, [], 1).Single().Metadata!.Name);
    }

    [Fact]
    public void NewPod_FromTemplate_OwnedAndNamedAfterReplicaSet()
    {
        var rs = Objects.ReplicaSet("web-abc", 1);

        var pod = ReplicaSetScaling.NewPod(rs);

        Assert.Equal("web-abc-", pod.Metadata!.GenerateName);
        Assert.Equal("web", pod.Metadata.Labels!["app"]);
        var owner = Assert.Single(pod.Metadata.OwnerReferences!);
        Assert.Equal(("ReplicaSet", "web-abc", "uid-web-abc", true, true), (owner.Kind, owner.Name, owner.Uid, owner.Controller, owner.BlockOwnerDeletion));
        Assert.Equal("nginx:1", pod.Spec!.Containers![0].Image);
        pod.Spec.Containers[0].Image = "changed";
        Assert.Equal("nginx:1", rs.Spec!.Template!.Spec!.Containers![0].Image);
    }

    [Fact]
    public void SlowStartBatches_Total_DoublesUntilDone()
    {
        Assert.Equal([1, 2, 4, 3], ReplicaSetScaling.SlowStartBatches(10));
    }

    [Fact]
    public void Calculate_MinReadySeconds_CountsAvailableOnlyAfterDelay()
    {
        var rs = Objects.ReplicaSet("rs", 3, minReadySeconds: 30);
        var pods = new[]
        {
            Objects.Pod("long-ready", "n", readySince: Now.AddMinutes(-5)),
            Objects.Pod("just-ready", "n", readySince: Now.AddSeconds(-10)),
            Objects.Pod("not-ready", "n", ready: false),
        };

        var status = ReplicaSetStatusCalculator.Calculate(rs, pods, Now, null);

        Assert.Equal((3, 3, 2, 1), (status.Replicas, status.FullyLabeledReplicas, status.ReadyReplicas, status.AvailableReplicas));
        Assert.Equal(1, status.ObservedGeneration);
        Assert.Equal(TimeSpan.FromSeconds(21), ReplicaSetStatusCalculator.NextAvailabilityCheck(rs, pods, Now));
    }

    [Fact]
    public void Calculate_CreateFailure_SetsAndClearsReplicaFailure()
    {
        var rs = Objects.ReplicaSet("rs", 1);

        var failed = ReplicaSetStatusCalculator.Calculate(rs, [], Now, (true, "quota exceeded"));
        var condition = Assert.Single(failed.Conditions!);
        Assert.Equal(("ReplicaFailure", "True", "FailedCreate", "quota exceeded"), (condition.Type, condition.Status, condition.Reason, condition.Message));

        rs.Status = failed;
        Assert.Null(ReplicaSetStatusCalculator.Calculate(rs, [], Now, null).Conditions);
    }

    [Fact]
    public void Calculate_PodMissingTemplateLabel_NotFullyLabeled()
    {
        var rs = Objects.ReplicaSet("rs", 1);
        rs.Spec!.Template!.Metadata!.Labels!["tier"] = "front";

        var status = ReplicaSetStatusCalculator.Calculate(rs, [Objects.Pod("a", "n")], Now, null);

        Assert.Equal(0, status.FullyLabeledReplicas);
    }
}
