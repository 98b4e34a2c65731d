using Kubesharp.Api.Core.V1;
using Kubesharp.ControllerManager.NodeLifecycle;
using Kubesharp.ControllerManager.PodGarbageCollection;

namespace Kubesharp.ControllerManager.Tests.PodGarbageCollection;

public sealed class PodGarbageCollectionRulesTests
{
    [Fact]
    public void TerminatedOverThreshold_MoreThanThreshold_OldestFirst()
    {
        var pods = Enumerable.Range(0, 5).Select(i => Objects.Pod($"p{i}", "n", phase: i == 4 ? "Running" : "Succeeded", created: Objects.Epoch.AddMinutes(-i))).ToList();

        var deleted = PodGarbageCollectionRules.TerminatedOverThreshold(pods, 2).Select(p => p.Metadata!.Name).ToList();

        Assert.Equal(["p3", "p2"], deleted);
    }

    [Fact]
    public void TerminatedOverThreshold_AtThreshold_Nothing()
    {
        var pods = Enumerable.Range(0, 2).Select(i => Objects.Pod($"p{i}", "n", phase: "Failed")).ToList();

        Assert.Empty(PodGarbageCollectionRules.TerminatedOverThreshold(pods, 2));
    }

    [Fact]
    public void Orphaned_PodOnMissingNode_Selected()
    {
        var pods = new[] { Objects.Pod("a", "gone"), Objects.Pod("b", "here"), Objects.Pod("c") };

        Assert.Equal(["a"], PodGarbageCollectionRules.Orphaned(pods, n => n == "here").Select(p => p.Metadata!.Name));
    }

    [Fact]
    public void UnscheduledTerminating_OnlyPodsWithoutNode()
    {
        var unscheduled = Objects.Pod("a");
        unscheduled.Metadata!.DeletionTimestamp = Objects.Epoch;
        var scheduled = Objects.Pod("b", "n");
        scheduled.Metadata!.DeletionTimestamp = Objects.Epoch;

        Assert.Equal(["a"], PodGarbageCollectionRules.UnscheduledTerminating([unscheduled, scheduled]).Select(p => p.Metadata!.Name));
    }

    [Fact]
    public void TerminatingOnOutOfServiceNodes_NeedsNotReadyAndTaint()
    {
        var pod = Objects.Pod("a", "n");
        pod.Metadata!.DeletionTimestamp = Objects.Epoch;
        var outOfService = new Node
        {
            Spec = new NodeSpec { Taints = [new Taint { Key = TaintKeys.OutOfService, Effect = "NoExecute" }] },
            Status = new NodeStatus { Conditions = [new NodeCondition { Type = "Ready", Status = "Unknown" }] },
        };
        var unreachableOnly = new Node { Status = new NodeStatus { Conditions = [new NodeCondition { Type = "Ready", Status = "Unknown" }] } };

        Assert.Single(PodGarbageCollectionRules.TerminatingOnOutOfServiceNodes([pod], _ => outOfService));
        Assert.Empty(PodGarbageCollectionRules.TerminatingOnOutOfServiceNodes([pod], _ => unreachableOnly));
    }
}
