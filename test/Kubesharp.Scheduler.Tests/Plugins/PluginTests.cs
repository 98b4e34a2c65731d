using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Scheduler.Framework;
using Kubesharp.Scheduler.Plugins;

namespace Kubesharp.Scheduler.Tests.Plugins;

public sealed class PluginTests
{
    private static FilterResult Run(IFilterPlugin plugin, Pod pod, ClusterSnapshot snapshot, string node)
    {
        var state = new CycleState();
        var info = new PodInfo(pod);
        Assert.True(plugin.PreFilter(state, info, snapshot).IsSuccess);
        return plugin.Filter(state, info, snapshot.Get(node)!);
    }

    private static long[] Scores(IScorePlugin plugin, Pod pod, ClusterSnapshot snapshot)
    {
        var state = new CycleState();
        var info = new PodInfo(pod);
        plugin.PreScore(state, info, snapshot.Nodes, snapshot);
        var scores = snapshot.Nodes.Select(n => plugin.Score(state, info, n)).ToArray();
        plugin.Normalize(state, info, scores);
        return scores;
    }

    [Fact]
    public void NodeName_OtherNode_Unresolvable()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("a"), Make.Node("b")], []);
        var pod = Make.Pod("p");
        pod.Spec!.NodeName = "a";

        Assert.True(Run(new NodeNamePlugin(), pod, snapshot, "a").IsSuccess);
        Assert.Equal(FilterCode.UnschedulableAndUnresolvable, Run(new NodeNamePlugin(), pod, snapshot, "b").Code);
    }

    [Fact]
    public void NodeUnschedulable_CordonedWithoutToleration_Fails()
    {
        var node = Make.Node("a");
        node.Spec!.Unschedulable = true;
        var snapshot = ClusterSnapshot.Build([node], []);
        var tolerating = Make.Pod("t");
        tolerating.Spec!.Tolerations = [new Toleration { Key = "node.kubernetes.io/unschedulable", Operator = "Exists", Effect = "NoSchedule" }];

        Assert.Equal(["node(s) were unschedulable"], Run(new NodeUnschedulablePlugin(), Make.Pod("p"), snapshot, "a").Reasons);
        Assert.True(Run(new NodeUnschedulablePlugin(), tolerating, snapshot, "a").IsSuccess);
    }

    [Fact]
    public void TaintToleration_ExistsToleration_Tolerates()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("a", taints: [new Taint { Key = "kubesharp.io/simulated", Value = "true", Effect = "NoSchedule" }])], []);
        var pod = Make.Pod("p");

        Assert.Equal(["node(s) had untolerated taint {kubesharp.io/simulated: true}"], Run(new TaintTolerationPlugin(), pod, snapshot, "a").Reasons);
        pod.Spec!.Tolerations = [new Toleration { Key = "kubesharp.io/simulated", Operator = "Exists" }];
        Assert.True(Run(new TaintTolerationPlugin(), pod, snapshot, "a").IsSuccess);
    }

    [Fact]
    public void TaintToleration_SeveralTaints_FilterNamesTheFirstUntoleratedAndScoreCountsIntolerablePreferences()
    {
        var node = Make.Node("a", taints:
        [
            new Taint { Key = "k1", Effect = "PreferNoSchedule" },
            new Taint { Key = "k2", Effect = "PreferNoSchedule" },
            new Taint { Key = "gpu", Value = "yes", Effect = "NoExecute" },
            new Taint { Key = "zone", Value = "b", Effect = "NoSchedule" },
        ]);
        var snapshot = ClusterSnapshot.Build([node], []);
        var pod = Make.Pod("p");
        pod.Spec!.Tolerations =
        [
            new Toleration { Key = "k1", Operator = "Exists" },
            // An effect other than the taint's tolerates nothing of it.
            new Toleration { Key = "k2", Operator = "Exists", Effect = "NoSchedule" },
            new Toleration { Key = "gpu", Operator = "Equal", Value = "yes", Effect = "NoExecute" },
        ];
        var plugin = new TaintTolerationPlugin();

        Assert.Equal(["node(s) had untolerated taint {zone: b}"], Run(plugin, pod, snapshot, "a").Reasons);
        Assert.Equal(1L, plugin.Score(new CycleState(), new PodInfo(pod), snapshot.Get("a")!));

        pod.Spec.Tolerations.Add(new Toleration { Key = "zone", Operator = "Equal", Value = "b" });
        pod.Spec.Tolerations.Add(new Toleration { Operator = "Exists", Effect = "PreferNoSchedule" });
        Assert.True(Run(plugin, pod, snapshot, "a").IsSuccess);
        Assert.Equal(0L, plugin.Score(new CycleState(), new PodInfo(pod), snapshot.Get("a")!));
    }

    [Fact]
    public void TaintToleration_PreferNoSchedule_ScoresUntaintedHigher()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("tainted", taints: [new Taint { Key = "k", Effect = "PreferNoSchedule" }]), Make.Node("clean")], []);

        Assert.Equal([0L, 100L], Scores(new TaintTolerationPlugin(), Make.Pod("p"), snapshot));
    }

    [Fact]
    public void NodeAffinity_SelectorAndRequiredTerms_Filter()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("ssd", labels: new() { ["disk"] = "ssd", ["zone"] = "a" }), Make.Node("hdd", labels: new() { ["disk"] = "hdd" })], []);
        var bySelector = Make.Pod("p");
        bySelector.Spec!.NodeSelector = new() { ["disk"] = "ssd" };
        var byAffinity = Make.Pod("q");
        byAffinity.Spec!.Affinity = new Affinity
        {
            NodeAffinity = new NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new NodeSelector
                {
                    NodeSelectorTerms = [new NodeSelectorTerm { MatchExpressions = [new NodeSelectorRequirement { Key = "zone", Operator = "Exists" }] }],
                },
            },
        };

        Assert.True(Run(new NodeAffinityPlugin(), bySelector, snapshot, "ssd").IsSuccess);
        Assert.Equal(["node(s) didn't match Pod's node affinity/selector"], Run(new NodeAffinityPlugin(), bySelector, snapshot, "hdd").Reasons);
        Assert.False(Run(new NodeAffinityPlugin(), byAffinity, snapshot, "hdd").IsSuccess);
    }

    [Fact]
    public void NodeAffinity_Preferred_ScoresMatchingNode()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("a", labels: new() { ["zone"] = "a" }), Make.Node("b", labels: new() { ["zone"] = "b" })], []);
        var pod = Make.Pod("p");
        pod.Spec!.Affinity = new Affinity
        {
            NodeAffinity = new NodeAffinity
            {
                PreferredDuringSchedulingIgnoredDuringExecution =
                [
                    new PreferredSchedulingTerm { Weight = 10, Preference = new NodeSelectorTerm { MatchExpressions = [new NodeSelectorRequirement { Key = "zone", Operator = "In", Values = ["b"] }] } },
                ],
            },
        };

        Assert.Equal([0L, 100L], Scores(new NodeAffinityPlugin(), pod, snapshot));
    }

    [Fact]
    public void NodeResourcesFit_ExtendedResourceAndPodCount_Reasons()
    {
        var snapshot = ClusterSnapshot.Build(
            [Make.Node("gpu", pods: 1, extra: new() { ["nvidia.com/gpu"] = "1" })],
            [Make.Pod("running", node: "gpu", extra: new() { ["nvidia.com/gpu"] = "1" })]);

        var result = Run(new NodeResourcesFitPlugin(), Make.Pod("p", extra: new() { ["nvidia.com/gpu"] = "1" }), snapshot, "gpu");

        Assert.Equal(FilterCode.Unschedulable, result.Code);
        Assert.Equal(["Too many pods", "Insufficient nvidia.com/gpu"], result.Reasons);
    }

    [Fact]
    public void BalancedAllocation_SkewedNode_ScoresLower()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("skewed"), Make.Node("even")], [Make.Pod("cpuhog", cpu: "3", memory: "100Mi", node: "skewed"), Make.Pod("both", cpu: "2", memory: "4Gi", node: "even")]);

        var scores = Scores(new BalancedAllocationPlugin(), Make.Pod("p", cpu: "100m", memory: "100Mi"), snapshot);

        Assert.True(scores[1] > scores[0]);
    }

    [Fact]
    public void NodePorts_SameHostPort_Conflicts()
    {
        var withPort = Make.Pod("web", node: "a");
        withPort.Spec!.Containers![0].Ports = [new ContainerPort { ContainerPortValue = 80, HostPort = 8080 }];
        var snapshot = ClusterSnapshot.Build([Make.Node("a"), Make.Node("b")], [withPort]);
        var pod = Make.Pod("p");
        pod.Spec!.Containers![0].Ports = [new ContainerPort { ContainerPortValue = 80, HostPort = 8080, Protocol = "TCP" }];

        Assert.Equal(["node(s) didn't have free ports for the requested pod ports"], Run(new NodePortsPlugin(), pod, snapshot, "a").Reasons);
        Assert.True(Run(new NodePortsPlugin(), pod, snapshot, "b").IsSuccess);
    }

    private static Pod WithAntiAffinity(string name, string? node = null)
    {
        var pod = Make.Pod(name, node: node, labels: new() { ["app"] = "web" });
        pod.Spec!.Affinity = new Affinity
        {
            PodAntiAffinity = new PodAntiAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution =
                [
                    new PodAffinityTerm { TopologyKey = "kubernetes.io/hostname", LabelSelector = new LabelSelector { MatchLabels = new() { ["app"] = "web" } } },
                ],
            },
        };
        return pod;
    }

    [Fact]
    public void InterPodAffinity_RequiredAntiAffinity_OnePerNode()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("a"), Make.Node("b")], [WithAntiAffinity("web-0", "a")]);

        Assert.Equal(["node(s) didn't match pod anti-affinity rules"], Run(new InterPodAffinityPlugin(), WithAntiAffinity("web-1"), snapshot, "a").Reasons);
        Assert.True(Run(new InterPodAffinityPlugin(), WithAntiAffinity("web-1"), snapshot, "b").IsSuccess);
    }

    [Fact]
    public void InterPodAffinity_ExistingPodsAntiAffinity_RejectsMatchingNewcomer()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("a")], [WithAntiAffinity("web-0", "a")]);

        var result = Run(new InterPodAffinityPlugin(), Make.Pod("plain", labels: new() { ["app"] = "web" }), snapshot, "a");

        Assert.Equal(["node(s) didn't satisfy existing pods anti-affinity rules"], result.Reasons);
    }

    [Fact]
    public void InterPodAffinity_RequiredAffinity_FollowsTarget()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("a"), Make.Node("b")], [Make.Pod("db", node: "b", labels: new() { ["app"] = "db" })]);
        var pod = Make.Pod("p");
        pod.Spec!.Affinity = new Affinity
        {
            PodAffinity = new PodAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution =
                [
                    new PodAffinityTerm { TopologyKey = "kubernetes.io/hostname", LabelSelector = new LabelSelector { MatchLabels = new() { ["app"] = "db" } } },
                ],
            },
        };

        Assert.Equal(["node(s) didn't match pod affinity rules"], Run(new InterPodAffinityPlugin(), pod, snapshot, "a").Reasons);
        Assert.True(Run(new InterPodAffinityPlugin(), pod, snapshot, "b").IsSuccess);
    }

    [Fact]
    public void InterPodAffinity_PreferredAntiAffinity_ScoresAwayFromPeers()
    {
        var snapshot = ClusterSnapshot.Build([Make.Node("a"), Make.Node("b")], [Make.Pod("web-0", node: "a", labels: new() { ["app"] = "web" })]);
        var pod = Make.Pod("p", labels: new() { ["app"] = "web" });
        pod.Spec!.Affinity = new Affinity
        {
            PodAntiAffinity = new PodAntiAffinity
            {
                PreferredDuringSchedulingIgnoredDuringExecution =
                [
                    new WeightedPodAffinityTerm { Weight = 100, PodAffinityTerm = new PodAffinityTerm { TopologyKey = "kubernetes.io/hostname", LabelSelector = new LabelSelector { MatchLabels = new() { ["app"] = "web" } } } },
                ],
            },
        };

        Assert.Equal([0L, 100L], Scores(new InterPodAffinityPlugin(), pod, snapshot));
    }

    [Fact]
    public void PodTopologySpread_MaxSkewExceeded_Fails()
    {
        var zoneA = new Dictionary<string, string> { ["zone"] = "a" };
        var zoneB = new Dictionary<string, string> { ["zone"] = "b" };
        var labels = new Dictionary<string, string> { ["app"] = "web" };
        var snapshot = ClusterSnapshot.Build(
            [Make.Node("a1", labels: zoneA), Make.Node("b1", labels: zoneB), Make.Node("nolabel")],
            [Make.Pod("w0", node: "a1", labels: labels)]);
        var pod = Make.Pod("w1", labels: labels);
        pod.Spec!.TopologySpreadConstraints =
        [
            new TopologySpreadConstraint { MaxSkew = 1, TopologyKey = "zone", WhenUnsatisfiable = "DoNotSchedule", LabelSelector = new LabelSelector { MatchLabels = labels } },
        ];

        Assert.Equal(["node(s) didn't match pod topology spread constraints"], Run(new PodTopologySpreadPlugin(), pod, snapshot, "a1").Reasons);
        Assert.True(Run(new PodTopologySpreadPlugin(), pod, snapshot, "b1").IsSuccess);
        Assert.Equal(["node(s) didn't match pod topology spread constraints (missing required label)"], Run(new PodTopologySpreadPlugin(), pod, snapshot, "nolabel").Reasons);
    }

    [Fact]
    public void ImageLocality_NodeWithLargeImage_ScoresHigher()
    {
        var withImage = Make.Node("cached");
        withImage.Status!.Images = [new ContainerImage { Names = ["docker.io/library/app:1"], SizeBytes = 500L * 1024 * 1024 }];
        var snapshot = ClusterSnapshot.Build([withImage, Make.Node("cold")], []);

        var scores = Scores(new ImageLocalityPlugin(), Make.Pod("p"), snapshot);

        Assert.True(scores[0] > 0);
        Assert.Equal(0, scores[1]);
    }
}
