using Kubesharp.Api.Core.V1;
using Kubesharp.Scheduler.Framework;
using Kubesharp.Scheduler.Preemption;

namespace Kubesharp.Scheduler.Tests;

public sealed class SchedulingAlgorithmTests
{
    private static readonly SchedulingAlgorithm Algorithm = new(SchedulerProfile.Default(), random: new Random(1));

    [Fact]
    public void Schedule_MixedFailures_UpstreamMessage()
    {
        var taint = new Taint { Key = "key", Value = "value", Effect = "NoSchedule" };
        var snapshot = ClusterSnapshot.Build(
            [Make.Node("a", cpu: "1"), Make.Node("b", cpu: "1"), Make.Node("c", taints: [taint]), Make.Node("d", taints: [taint]), Make.Node("e", taints: [taint])],
            []);

        var result = Algorithm.Schedule(new PodInfo(Make.Pod("p", cpu: "2")), snapshot);
        var preemption = new DefaultPreemption(Algorithm).Find(new PodInfo(Make.Pod("p", cpu: "2")), snapshot, result);

        Assert.Null(result.NodeName);
        Assert.Equal("0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint {key: value}.", result.FailureMessage);
        Assert.Equal("preemption: 0/5 nodes are available: 2 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.", preemption.Message);
    }

    [Fact]
    public void Schedule_LeastAllocated_PicksEmptierNode()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("busy"), Make.Node("idle")], [Make.Pod("x", cpu: "3", memory: "6Gi", node: "busy")]);

        var result = Algorithm.Schedule(new PodInfo(Make.Pod("p", cpu: "500m", memory: "1Gi")), snapshot);

        Assert.Equal("idle", result.NodeName);
        var idle = result.Verdicts.Single(v => v.Node == "idle");
        Assert.True(idle.Scores["NodeResourcesFit"] > result.Verdicts.Single(v => v.Node == "busy").Scores["NodeResourcesFit"]);
    }

    [Fact]
    public void Schedule_FailedNode_VerdictListsEveryFailingPlugin()
    {
        var node = Make.Node("n", cpu: "1", taints: [new Taint { Key = "k", Value = "v", Effect = "NoSchedule" }]);
        var snapshot = ClusterSnapshot.Build([node], []);

        var result = Algorithm.Schedule(new PodInfo(Make.Pod("p", cpu: "2")), snapshot);

        var verdict = Assert.Single(result.Verdicts);
        Assert.Equal(["TaintToleration", "NodeResourcesFit"], verdict.Failures.Select(f => f.Plugin));
        Assert.Equal("0/1 nodes are available: 1 node(s) had untolerated taint {k: v}.", result.FailureMessage);
    }

    [Fact]
    public void NumFeasibleNodesToFind_5000Nodes_AdaptivePercentage()
    {
        Assert.Equal(500, Algorithm.NumFeasibleNodesToFind(5000));
        Assert.Equal(50, Algorithm.NumFeasibleNodesToFind(50));
        Assert.Equal(420, Algorithm.NumFeasibleNodesToFind(1000));
    }

    [Fact]
    public void Schedule_ManyNodes_EvaluatesOnlyEnoughAndRotatesStart()
    {
        var nodes = Enumerable.Range(0, 1000).Select(i => Make.Node($"n{i}")).ToList();
        var snapshot = ClusterSnapshot.Build(nodes, []);
        var algorithm = new SchedulingAlgorithm(SchedulerProfile.Default());

        var first = algorithm.Schedule(new PodInfo(Make.Pod("p1")), snapshot);
        var second = algorithm.Schedule(new PodInfo(Make.Pod("p2")), snapshot);

        Assert.Equal(420, first.EvaluatedNodes);
        Assert.Equal("n420", second.Verdicts[0].Node);
    }

    [Fact]
    public void Verdict_FailedAttempt_GroupsNodesByReasons()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("a", cpu: "1"), Make.Node("b", cpu: "1")], []);
        var result = Algorithm.Schedule(new PodInfo(Make.Pod("p", cpu: "2")), snapshot);

        var json = System.Text.Json.Nodes.JsonNode.Parse(SchedulingVerdict.ToJson(result, 1, DateTimeOffset.UnixEpoch, result.FailureMessage))!;

        Assert.Equal("Unschedulable", (string?)json["result"]);
        var group = json["filtered"]![0]!;
        Assert.Equal(2, (int)group["count"]!);
        Assert.Equal("NodeResourcesFit: Insufficient cpu", (string?)group["reasons"]![0]);
    }

    [Fact]
    public void Preemption_LowerPriorityPods_MinimalVictimsOnOneNode()
    {
        var snapshot = ClusterSnapshot.Build(
            [Make.Node("n", cpu: "4")],
            [Make.Pod("low1", cpu: "1", node: "n", priority: 1), Make.Pod("low2", cpu: "2", node: "n", priority: 2), Make.Pod("high", cpu: "1", node: "n", priority: 100)]);
        var pod = new PodInfo(Make.Pod("p", cpu: "2", priority: 50));

        var failed = Algorithm.Schedule(pod, snapshot);
        var result = new DefaultPreemption(Algorithm).Find(pod, snapshot, failed);

        Assert.Equal("n", result.Candidate!.NodeName);
        Assert.Equal(["low2"], result.Candidate.Victims.Select(v => v.Name));
    }

    [Fact]
    public void Preemption_PolicyNever_NotEligible()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("n", cpu: "1")], [Make.Pod("low", cpu: "1", node: "n")]);
        var pod = Make.Pod("p", cpu: "1", priority: 10);
        pod.Spec!.PreemptionPolicy = "Never";
        var info = new PodInfo(pod);

        var result = new DefaultPreemption(Algorithm).Find(info, snapshot, Algorithm.Schedule(info, snapshot));

        Assert.Null(result.Candidate);
        Assert.Equal("preemption: not eligible due to preemptionPolicy=Never.", result.Message);
    }

    [Fact]
    public void Schedule_NodeSelectorAfterSkippedFilters_StillFiltersAndScoresEveryPlugin()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("a", labels: new() { ["disk"] = "ssd" }), Make.Node("b"), Make.Node("c", labels: new() { ["disk"] = "ssd" })], []);
        var pod = Make.Pod("p", cpu: "1");
        pod.Spec!.NodeSelector = new() { ["disk"] = "ssd" };

        var result = Algorithm.Schedule(new PodInfo(pod), snapshot);

        Assert.NotEqual("b", result.NodeName);
        Assert.Equal(["NodeAffinity"], result.Verdicts.Single(v => v.Node == "b").Failures.Select(f => f.Plugin));
        Assert.All(result.Verdicts.Where(v => v.Feasible), v => Assert.Equal(SchedulerProfile.Default().Scores.Count, v.Scores.Count));
    }
}
