using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.Client;
using Kubesharp.Scheduler.Queue;

namespace Kubesharp.Scheduler.Tests.Queue;

public sealed class SchedulingEventsTests
{
    private static Node WithReady(Node node, DateTimeOffset heartbeat, string status = "True")
    {
        node.Status!.Conditions = [new NodeCondition { Type = "Ready", Status = status, LastHeartbeatTime = heartbeat }];
        return node;
    }

    [Fact]
    public void NodeSchedulingPropertiesChanged_HeartbeatOnly_False()
    {
        var old = WithReady(Make.Node("n"), DateTimeOffset.UnixEpoch);
        var node = WithReady(Make.Node("n"), DateTimeOffset.UnixEpoch.AddMinutes(1));

        Assert.False(SchedulingEvents.NodeSchedulingPropertiesChanged(old, node));
    }

    [Fact]
    public void NodeSchedulingPropertiesChanged_ReadyBecameFalse_True()
    {
        var old = WithReady(Make.Node("n"), DateTimeOffset.UnixEpoch);
        var node = WithReady(Make.Node("n"), DateTimeOffset.UnixEpoch, "False");

        Assert.True(SchedulingEvents.NodeSchedulingPropertiesChanged(old, node));
    }

    [Fact]
    public void NodeSchedulingPropertiesChanged_Uncordoned_True()
    {
        var old = Make.Node("n");
        old.Spec!.Unschedulable = true;

        Assert.True(SchedulingEvents.NodeSchedulingPropertiesChanged(old, Make.Node("n")));
    }

    [Fact]
    public void NodeSchedulingPropertiesChanged_MoreAllocatableCpu_True() =>
        Assert.True(SchedulingEvents.NodeSchedulingPropertiesChanged(Make.Node("n", cpu: "4"), Make.Node("n", cpu: "8")));

    [Fact]
    public void NodeSchedulingPropertiesChanged_NewLabel_True() =>
        Assert.True(SchedulingEvents.NodeSchedulingPropertiesChanged(Make.Node("n"), Make.Node("n", labels: new() { ["disk"] = "ssd" })));

    [Fact]
    public void PodSchedulingPropertiesChanged_StatusAndVerdictAnnotation_False()
    {
        var old = Make.Pod("p");
        var pod = KubernetesJson.DeepCopy(old);
        pod.Status = new PodStatus { Conditions = [new PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable" }] };
        pod.Metadata!.ResourceVersion = "42";
        pod.Metadata.Annotations = new() { [SchedulingVerdict.AnnotationKey] = "{}" };

        Assert.False(SchedulingEvents.PodSchedulingPropertiesChanged(old, pod));
    }

    [Fact]
    public void PodSchedulingPropertiesChanged_NewRequest_True()
    {
        var old = Make.Pod("p", cpu: "1");
        var pod = KubernetesJson.DeepCopy(old);
        pod.Spec!.Containers![0].Resources!.Requests!["cpu"] = Quantity.Parse("500m");

        Assert.True(SchedulingEvents.PodSchedulingPropertiesChanged(old, pod));
    }

    [Fact]
    public void PodSchedulingPropertiesChanged_OtherAnnotation_True()
    {
        var old = Make.Pod("p");
        var pod = KubernetesJson.DeepCopy(old);
        pod.Metadata!.Annotations = new() { ["team"] = "a" };

        Assert.True(SchedulingEvents.PodSchedulingPropertiesChanged(old, pod));
    }
}
