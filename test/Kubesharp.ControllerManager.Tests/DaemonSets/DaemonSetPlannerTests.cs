using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.DaemonSets;

namespace Kubesharp.ControllerManager.Tests.DaemonSets;

public sealed class DaemonSetPlannerTests
{
    private static readonly DateTimeOffset Now = Objects.Epoch.AddHours(1);

    private static DaemonSet DaemonSet(IntOrString? maxUnavailable = null, IntOrString? maxSurge = null, string strategy = "RollingUpdate", long generation = 1) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "DaemonSet",
        Metadata = new ObjectMeta
        {
            Name = "agent",
            Namespace = "default",
            Uid = "uid-agent",
            Generation = 3,
            Annotations = new() { [DaemonPodTemplate.TemplateGenerationAnnotation] = generation.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        },
        Spec = new DaemonSetSpec
        {
            Selector = new LabelSelector { MatchLabels = new() { ["app"] = "agent" } },
            Template = Objects.Template("agent", "agent:2"),
            UpdateStrategy = strategy == "RollingUpdate"
                ? new DaemonSetUpdateStrategy { Type = strategy, RollingUpdate = new RollingUpdateDaemonSet { MaxUnavailable = maxUnavailable ?? 1, MaxSurge = maxSurge ?? 0 } }
                : new DaemonSetUpdateStrategy { Type = strategy },
        },
    };

    private static Node Node(string name, Dictionary<string, string>? labels = null, params Taint[] taints) => new()
    {
        Metadata = new ObjectMeta { Name = name, Labels = labels ?? new() { ["kubernetes.io/hostname"] = name } },
        Spec = new NodeSpec { Taints = taints.Length == 0 ? null : [.. taints] },
    };

    private static Pod DaemonPod(DaemonSet ds, string node, string hash, bool ready = true, DateTimeOffset? created = null)
    {
        var pod = DaemonPodTemplate.NewPod(ds, hash, node);
        pod.Metadata!.Name = $"agent-{node}-{hash}";
        pod.Metadata.Uid = "uid-" + pod.Metadata.Name;
        pod.Metadata.CreationTimestamp = created ?? Objects.Epoch;
        pod.Metadata.Labels!.Remove(DaemonPodTemplate.TemplateGenerationLabel);
        pod.Spec!.NodeName = node;
        pod.Status = new PodStatus { Phase = "Running", Conditions = [new PodCondition { Type = "Ready", Status = ready ? "True" : "False", LastTransitionTime = Objects.Epoch }] };
        return pod;
    }

    private static Dictionary<string, List<Pod>> ByNode(IEnumerable<Pod> pods) =>
        pods.GroupBy(p => p.Spec!.NodeName!).ToDictionary(g => g.Key, g => g.ToList());

    [Fact]
    public void Evaluate_TaintsAndSelectors_DecideAsUpstream()
    {
        var ds = DaemonSet();

        Assert.Equal((true, true), DaemonSetPlacement.Evaluate(ds, Node("plain")));
        Assert.Equal((true, true), DaemonSetPlacement.Evaluate(ds, Node("cordoned", null, new Taint { Key = "node.kubernetes.io/unschedulable", Effect = "NoSchedule" })));
        Assert.Equal((true, true), DaemonSetPlacement.Evaluate(ds, Node("not-ready", null, new Taint { Key = "node.kubernetes.io/not-ready", Effect = "NoExecute" })));
        Assert.Equal((false, true), DaemonSetPlacement.Evaluate(ds, Node("dedicated", null, new Taint { Key = "dedicated", Value = "db", Effect = "NoSchedule" })));
        Assert.Equal((false, false), DaemonSetPlacement.Evaluate(ds, Node("evicting", null, new Taint { Key = "dedicated", Value = "db", Effect = "NoExecute" })));
        Assert.Equal((false, true), DaemonSetPlacement.Evaluate(ds, Node("no-network", null, new Taint { Key = "node.kubernetes.io/network-unavailable", Effect = "NoSchedule" })));
        ds.Spec!.Template!.Spec!.HostNetwork = true;
        Assert.Equal((true, true), DaemonSetPlacement.Evaluate(ds, Node("no-network", null, new Taint { Key = "node.kubernetes.io/network-unavailable", Effect = "NoSchedule" })));

        ds.Spec.Template.Spec.NodeSelector = new() { ["disk"] = "ssd" };
        Assert.Equal((false, false), DaemonSetPlacement.Evaluate(ds, Node("hdd", new() { ["disk"] = "hdd" })));
        Assert.Equal((true, true), DaemonSetPlacement.Evaluate(ds, Node("ssd", new() { ["disk"] = "ssd" })));
        ds.Spec.Template.Spec.NodeSelector = null;
        ds.Spec.Template.Spec.Affinity = new Affinity
        {
            NodeAffinity = new NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new NodeSelector
                {
                    NodeSelectorTerms = [new NodeSelectorTerm { MatchExpressions = [new NodeSelectorRequirement { Key = "zone", Operator = "NotIn", Values = ["b"] }] }],
                },
            },
        };
        Assert.Equal((true, true), DaemonSetPlacement.Evaluate(ds, Node("a", new() { ["zone"] = "a" })));
        Assert.Equal((false, false), DaemonSetPlacement.Evaluate(ds, Node("b", new() { ["zone"] = "b" })));
    }

    [Fact]
    public void NewPod_PinsTheNodeAndAddsDaemonTolerations()
    {
        var ds = DaemonSet();
        ds.Spec!.Template!.Spec!.Affinity = new Affinity
        {
            NodeAffinity = new NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new NodeSelector { NodeSelectorTerms = [new NodeSelectorTerm { MatchExpressions = [new NodeSelectorRequirement { Key = "zone", Operator = "Exists" }] }] },
            },
        };

        var pod = DaemonPodTemplate.NewPod(ds, "h1", "n1");

        var term = Assert.Single(pod.Spec!.Affinity!.NodeAffinity!.RequiredDuringSchedulingIgnoredDuringExecution!.NodeSelectorTerms!);
        var field = Assert.Single(term.MatchFields!);
        Assert.Equal(("metadata.name", "In", "n1"), (field.Key, field.Operator, field.Values![0]));
        Assert.Null(pod.Spec.NodeName);
        Assert.Equal("n1", DaemonPodTemplate.NodeOf(pod));
        Assert.Equal("agent-", pod.Metadata!.GenerateName);
        Assert.Equal("h1", pod.Metadata.Labels!["controller-revision-hash"]);
        Assert.Equal("1", pod.Metadata.Labels["pod-template-generation"]);
        Assert.Equal(
            ["node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/memory-pressure:NoSchedule", "node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule"],
            pod.Spec.Tolerations!.Select(t => $"{t.Key}:{t.Effect}"));
    }

    [Fact]
    public void Plan_EligibleNodes_GetOnePodEachAndIneligibleOnesLoseTheirs()
    {
        var ds = DaemonSet();
        var nodes = new[] { Node("n1"), Node("n2"), Node("gone-bad", null, new Taint { Key = "dedicated", Effect = "NoExecute" }), Node("kept", null, new Taint { Key = "dedicated", Effect = "NoSchedule" }) };
        var pods = new[] { DaemonPod(ds, "n1", "h1"), DaemonPod(ds, "gone-bad", "h1"), DaemonPod(ds, "kept", "h1") };

        var plan = DaemonSetPlanner.Plan(ds, nodes, ByNode(pods), "h1", Now);

        Assert.Equal(["n2"], plan.NodesToCreate);
        Assert.Equal(["agent-gone-bad-h1"], plan.PodsToDelete.Select(p => p.Metadata!.Name));
        Assert.Equal(2, plan.Status.DesiredNumberScheduled);
        Assert.Equal(1, plan.Status.CurrentNumberScheduled);
        Assert.Equal(2, plan.Status.NumberMisscheduled);
        Assert.Equal(1, plan.Status.NumberReady);
        Assert.Equal(1, plan.Status.NumberAvailable);
        Assert.Equal(1, plan.Status.NumberUnavailable);
        Assert.Equal(1, plan.Status.UpdatedNumberScheduled);
        Assert.Equal(3, plan.Status.ObservedGeneration);
    }

    [Fact]
    public void Plan_TwoPodsOnANodeWithoutSurge_KeepsTheOldest()
    {
        var ds = DaemonSet();
        var pods = new[] { DaemonPod(ds, "n1", "h1", created: Objects.Epoch.AddMinutes(1)), DaemonPod(ds, "n1", "h0") };

        var plan = DaemonSetPlanner.Plan(ds, [Node("n1")], ByNode(pods), "h1", Now);

        Assert.Equal(["agent-n1-h1"], plan.PodsToDelete.Select(p => p.Metadata!.Name));
    }

    [Fact]
    public void Plan_RollingUpdateMaxUnavailableOne_ReplacesOneNodeAtATime()
    {
        var ds = DaemonSet();
        var nodes = new[] { Node("n1"), Node("n2"), Node("n3") };
        var pods = nodes.Select(n => DaemonPod(ds, n.Metadata!.Name!, "h0")).ToList();

        var first = DaemonSetPlanner.Plan(ds, nodes, ByNode(pods), "h1", Now);
        Assert.Equal(["agent-n1-h0"], first.PodsToDelete.Select(p => p.Metadata!.Name));
        Assert.Equal(0, first.Status.UpdatedNumberScheduled);

        // The replacement is not ready yet: nothing else may go.
        pods[0] = DaemonPod(ds, "n1", "h1", ready: false);
        Assert.Empty(DaemonSetPlanner.Plan(ds, nodes, ByNode(pods), "h1", Now).PodsToDelete);

        pods[0] = DaemonPod(ds, "n1", "h1");
        var next = DaemonSetPlanner.Plan(ds, nodes, ByNode(pods), "h1", Now);
        Assert.Equal(["agent-n2-h0"], next.PodsToDelete.Select(p => p.Metadata!.Name));
        Assert.Equal(1, next.Status.UpdatedNumberScheduled);
    }

    [Fact]
    public void Plan_RollingUpdateWithSurge_StartsNewPodsBesideOldOnesThenRemovesTheOld()
    {
        var ds = DaemonSet(maxUnavailable: 0, maxSurge: 1);
        var nodes = new[] { Node("n1"), Node("n2") };
        var pods = nodes.Select(n => DaemonPod(ds, n.Metadata!.Name!, "h0")).ToList();

        var first = DaemonSetPlanner.Plan(ds, nodes, ByNode(pods), "h1", Now);
        Assert.Equal(["n1"], first.NodesToCreate);
        Assert.Empty(first.PodsToDelete);

        pods.Add(DaemonPod(ds, "n1", "h1", ready: false, created: Objects.Epoch.AddMinutes(1)));
        var waiting = DaemonSetPlanner.Plan(ds, nodes, ByNode(pods), "h1", Now);
        Assert.Empty(waiting.NodesToCreate);
        Assert.Empty(waiting.PodsToDelete);

        pods[^1] = DaemonPod(ds, "n1", "h1", created: Objects.Epoch.AddMinutes(1));
        var swap = DaemonSetPlanner.Plan(ds, nodes, ByNode(pods), "h1", Now);
        Assert.Contains("agent-n1-h0", swap.PodsToDelete.Select(p => p.Metadata!.Name));
        Assert.Equal(["n2"], swap.NodesToCreate);
    }

    [Fact]
    public void Plan_OnDelete_LeavesOldPodsAlone()
    {
        var ds = DaemonSet(strategy: "OnDelete");
        var nodes = new[] { Node("n1") };

        var plan = DaemonSetPlanner.Plan(ds, nodes, ByNode([DaemonPod(ds, "n1", "h0")]), "h1", Now);

        Assert.Empty(plan.PodsToDelete);
        Assert.Empty(plan.NodesToCreate);
        Assert.Equal(0, plan.Status.UpdatedNumberScheduled);
    }

    [Fact]
    public void Plan_FailedPod_IsReportedForReplacement()
    {
        var ds = DaemonSet();
        var failed = DaemonPod(ds, "n1", "h1");
        failed.Status!.Phase = "Failed";

        var plan = DaemonSetPlanner.Plan(ds, [Node("n1")], ByNode([failed]), "h1", Now);

        Assert.Equal("n1", Assert.Single(plan.FailedPods).Node);
    }

    [Fact]
    public void Budget_Percentages_RoundUpAndNeverBothZero()
    {
        Assert.Equal((0, 3), DaemonSetPlanner.Budget(DaemonSet(maxUnavailable: "25%"), 10));
        Assert.Equal((3, 0), DaemonSetPlanner.Budget(DaemonSet(maxUnavailable: 0, maxSurge: "25%"), 10));
        Assert.Equal((0, 1), DaemonSetPlanner.Budget(DaemonSet(maxUnavailable: "0%", maxSurge: "0%"), 10));
    }
}
