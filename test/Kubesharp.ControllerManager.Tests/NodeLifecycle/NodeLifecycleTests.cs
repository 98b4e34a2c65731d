using Kubesharp.Api.Coordination.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.NodeLifecycle;

namespace Kubesharp.ControllerManager.Tests.NodeLifecycle;

public sealed class NodeLifecycleTests
{
    private static readonly DateTimeOffset Now = Objects.Epoch.AddHours(1);

    private static Node Node(string? ready, params Taint[] taints) => new()
    {
        Metadata = new ObjectMeta { Name = "n1", CreationTimestamp = Objects.Epoch },
        Spec = new NodeSpec { Taints = taints.Length > 0 ? [.. taints] : null },
        Status = new NodeStatus { Conditions = ready is null ? null : [new NodeCondition { Type = "Ready", Status = ready, LastHeartbeatTime = Objects.Epoch }] },
    };

    private static Pod PodWith(params Toleration[] tolerations) => new() { Metadata = new ObjectMeta { Name = "p" }, Spec = new PodSpec { NodeName = "n1", Tolerations = [.. tolerations] } };

    [Fact]
    public void Desired_ReadyUnknown_AddsUnreachableTaints()
    {
        var taints = NodeTaints.Desired(Node("Unknown"), Now);

        Assert.Contains(taints, t => t is { Key: TaintKeys.Unreachable, Effect: TaintKeys.NoSchedule });
        var noExecute = Assert.Single(taints, t => t is { Key: TaintKeys.Unreachable, Effect: TaintKeys.NoExecute });
        Assert.Equal(Now, noExecute.TimeAdded);
        Assert.DoesNotContain(taints, t => t.Key == TaintKeys.NotReady);
    }

    [Fact]
    public void Desired_NodeThatNeverPostedStatus_IsNotTaintedUntilMarkedUnknown()
    {
        // A node just registered has no conditions yet; the grace period decides when it counts as unreachable.
        Assert.DoesNotContain(NodeTaints.Desired(Node(null), Now), t => t.Key is TaintKeys.Unreachable or TaintKeys.NotReady);
    }

    [Fact]
    public void Desired_ReadyFalse_SwapsUnreachableForNotReady()
    {
        var node = Node("False", new Taint { Key = TaintKeys.Unreachable, Effect = TaintKeys.NoExecute }, new Taint { Key = "user", Effect = "NoSchedule" });

        var taints = NodeTaints.Desired(node, Now);

        Assert.DoesNotContain(taints, t => t.Key == TaintKeys.Unreachable);
        Assert.Contains(taints, t => t is { Key: TaintKeys.NotReady, Effect: TaintKeys.NoExecute });
        Assert.Contains(taints, t => t.Key == "user");
    }

    [Fact]
    public void Desired_ReadyTrueAndCordoned_OnlyUnschedulableTaint()
    {
        var node = Node("True", new Taint { Key = TaintKeys.NotReady, Effect = TaintKeys.NoSchedule });
        node.Spec!.Unschedulable = true;

        var taints = NodeTaints.Desired(node, Now);

        var taint = Assert.Single(taints);
        Assert.Equal((TaintKeys.Unschedulable, TaintKeys.NoSchedule), (taint.Key, taint.Effect));
    }

    [Fact]
    public void EvictionTime_NoToleration_Now()
    {
        Assert.Equal(Now, TaintEviction.EvictionTime(PodWith(), [new Taint { Key = TaintKeys.Unreachable, Effect = TaintKeys.NoExecute, TimeAdded = Now }], Now));
    }

    [Fact]
    public void EvictionTime_TolerationSeconds_AfterThatLongFromTaint()
    {
        var pod = PodWith(new Toleration { Key = TaintKeys.Unreachable, Operator = "Exists", Effect = TaintKeys.NoExecute, TolerationSeconds = 300 });
        var added = Now.AddSeconds(-100);

        Assert.Equal(added.AddSeconds(300), TaintEviction.EvictionTime(pod, [new Taint { Key = TaintKeys.Unreachable, Effect = TaintKeys.NoExecute, TimeAdded = added }], Now));
    }

    [Fact]
    public void EvictionTime_ToleratesForever_Never()
    {
        var pod = PodWith(new Toleration { Operator = "Exists" });

        Assert.Null(TaintEviction.EvictionTime(pod, [new Taint { Key = TaintKeys.Unreachable, Effect = TaintKeys.NoExecute, TimeAdded = Now }], Now));
    }

    [Fact]
    public void EvictionTime_OnlyNoScheduleTaints_Never()
    {
        Assert.Null(TaintEviction.EvictionTime(PodWith(), [new Taint { Key = TaintKeys.Unreachable, Effect = TaintKeys.NoSchedule }], Now));
    }

    [Fact]
    public void EvictionTime_OneOfTwoTaintsUntolerated_Now()
    {
        var pod = PodWith(new Toleration { Key = TaintKeys.Unreachable, Operator = "Exists", Effect = TaintKeys.NoExecute });
        Taint[] taints = [new() { Key = TaintKeys.Unreachable, Effect = TaintKeys.NoExecute }, new() { Key = "dedicated", Value = "x", Effect = TaintKeys.NoExecute }];

        Assert.Equal(Now, TaintEviction.EvictionTime(pod, taints, Now));
    }

    [Theory]
    [InlineData("k", "Equal", "v", "", "k", "v", true)]
    [InlineData("k", "Equal", "v", "", "k", "w", false)]
    [InlineData("k", "Exists", null, "NoExecute", "k", "w", true)]
    [InlineData("k", "Exists", null, "NoSchedule", "k", "w", false)]
    [InlineData("", "Exists", null, "", "any", "x", true)]
    [InlineData("", "Equal", "", "", "any", "", false)]
    public void Tolerates_Cases_MatchUpstream(string key, string op, string? value, string effect, string taintKey, string taintValue, bool expected)
    {
        var toleration = new Toleration { Key = key, Operator = op, Value = value, Effect = effect };

        Assert.Equal(expected, TaintEviction.Tolerates(toleration, new Taint { Key = taintKey, Value = taintValue, Effect = "NoExecute" }));
    }

    [Fact]
    public void Observe_HeartbeatUnchanged_KeepsFirstObservationTime()
    {
        var health = new NodeHealth();
        var lease = new Lease { Spec = new LeaseSpec { RenewTime = Objects.Epoch } };

        var first = health.Observe(Node("True"), lease, Now);
        var later = health.Observe(Node("True"), lease, Now.AddSeconds(50));

        Assert.Equal(Now, first);
        Assert.Equal(Now, later);
    }

    [Fact]
    public void Observe_LeaseRenewed_MovesProbeToObservationTime()
    {
        var health = new NodeHealth();
        health.Observe(Node("True"), new Lease { Spec = new LeaseSpec { RenewTime = Objects.Epoch } }, Now);

        var probe = health.Observe(Node("True"), new Lease { Spec = new LeaseSpec { RenewTime = Objects.Epoch.AddSeconds(10) } }, Now.AddSeconds(30));

        Assert.Equal(Now.AddSeconds(30), probe);
    }

    [Fact]
    public void MarkUnknown_ReadyNode_SetsStatusConditionsUnknown()
    {
        var node = Node("True");

        Assert.True(NodeHealth.MarkUnknown(node, Now));

        var ready = node.Status!.Conditions!.Single(c => c.Type == "Ready");
        Assert.Equal(("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."), (ready.Status, ready.Reason, ready.Message));
        var memory = node.Status.Conditions!.Single(c => c.Type == "MemoryPressure");
        Assert.Equal(("Unknown", "NodeStatusNeverUpdated"), (memory.Status, memory.Reason));
        Assert.False(NodeHealth.MarkUnknown(node, Now.AddSeconds(1)));
    }
}
