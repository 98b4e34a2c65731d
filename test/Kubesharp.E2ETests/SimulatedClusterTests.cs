using System.Globalization;

namespace Kubesharp.E2ETests;

/// <summary>
/// The scheduler, the controllers and the simulated nodes through the real kubectl against the real
/// <c>kubesharp server --disable-agent --simulated-nodes 5</c>. Pods tolerate the simulated nodes' taint.
/// </summary>
[Collection(SimulatedClusterCollection.Name)]
public sealed class SimulatedClusterTests(SimulatedCluster cluster) : IAsyncLifetime
{
    private readonly string ns = "s" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync() =>
        (await cluster.KubectlAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")).Ok();

    public async Task DisposeAsync()
    {
        foreach (var node in SimulatedCluster.NodeNames)
        {
            await cluster.KubectlAsync("uncordon", node);
        }

        await cluster.KubectlAsync("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
    }

    private Task<Kubectl.Result> K(params string[] args) => cluster.KubectlAsync([.. args, "-n", ns]);

    private static string Deployment(string name, int replicas, string image = "nginx:1.25", string extraSpec = "", string containerExtra = "") => $$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{name}}
        spec:
          replicas: {{replicas}}
          selector:
            matchLabels: {app: {{name}}}
          template:
            metadata:
              labels: {app: {{name}}}
            spec:
              tolerations:
              - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
        {{extraSpec}}
              containers:
              - name: web
                image: {{image}}
        {{containerExtra}}
        """;

    private async Task ApplyAsync(string manifest) => (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], manifest)).Ok();

    private async Task<List<(string Pod, string Node)>> PodsAsync(string app)
    {
        var output = (await K("get", "pods", "-l", "app=" + app, "-o", "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{\"\\n\"}{end}")).Ok().Output;
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .Select(p => (p[0], p.Length > 1 ? p[1] : ""))
            .ToList();
    }

    private async Task<string> PendingPodAsync(string app)
    {
        // The pod exists once the Deployment counts it; only then can kubectl wait select it.
        (await K("wait", "--for=jsonpath={.status.replicas}=1", "deployment/" + app, "--timeout=60s")).Ok();
        (await K("wait", "--for=condition=PodScheduled=false", "pod", "-l", "app=" + app, "--timeout=60s")).Ok();
        return Assert.Single(await PodsAsync(app)).Pod;
    }

    private async Task<string> ConditionMessageAsync(string pod) =>
        (await K("get", "pod", pod, "-o", "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")].message}")).Ok().Output;

    [Fact]
    public async Task Deployment_200Replicas_ReadyOnAllFiveNodes()
    {
        await ApplyAsync(Deployment("big", 200));

        (await K("rollout", "status", "deployment/big", "--timeout=240s")).Ok();

        Assert.Equal("200", (await K("get", "deployment", "big", "-o", "jsonpath={.status.readyReplicas}")).Ok().Output);
        var pods = await PodsAsync("big");
        Assert.Equal(200, pods.Count);
        Assert.Equal(SimulatedCluster.NodeNames.Order(), pods.Select(p => p.Node).Distinct().Order());
    }

    [Fact]
    public async Task Rollout_SetImageHistoryUndo_BehaveAsUpstream()
    {
        await ApplyAsync(Deployment("web", 3));
        (await K("rollout", "status", "deployment/web", "--timeout=120s")).Ok();

        (await K("set", "image", "deployment/web", "web=nginx:1.26")).Ok();
        var status = (await K("rollout", "status", "deployment/web", "--timeout=120s")).Ok().Output;
        Assert.Contains("deployment \"web\" successfully rolled out", status, StringComparison.Ordinal);
        Assert.Equal("nginx:1.26", (await K("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}")).Ok().Output);

        var history = (await K("rollout", "history", "deployment/web")).Ok().Output;
        Assert.Equal(["REVISION", "1", "2"], Revisions(history));
        var revision2 = (await K("rollout", "history", "deployment/web", "--revision=2")).Ok().Output;
        Assert.Contains("nginx:1.26", revision2, StringComparison.Ordinal);

        var undo = (await K("rollout", "undo", "deployment/web")).Ok().Output;
        Assert.Contains("deployment.apps/web rolled back", undo, StringComparison.Ordinal);
        (await K("rollout", "status", "deployment/web", "--timeout=120s")).Ok();
        Assert.Equal("nginx:1.25", (await K("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}")).Ok().Output);

        // Upstream renumbers the revision rolled back to: 1 becomes 3.
        Assert.Equal(["REVISION", "2", "3"], Revisions((await K("rollout", "history", "deployment/web")).Ok().Output));
        var replicaSets = (await K("get", "rs", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.spec.replicas}{\" \"}{.spec.template.spec.containers[0].image}{\"\\n\"}{end}")).Ok().Output;
        Assert.Equal(["0 nginx:1.26", "3 nginx:1.25"], replicaSets.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());

        (await K("rollout", "undo", "deployment/web", "--to-revision=2")).Ok();
        (await K("rollout", "status", "deployment/web", "--timeout=120s")).Ok();
        Assert.Equal("nginx:1.26", (await K("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}")).Ok().Output);
    }

    private static List<string> Revisions(string history) =>
        history.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]).ToList();

    [Fact]
    public async Task PodAntiAffinity_RequiredHostname_OnePerNodeSixthPending()
    {
        const string affinity = """
                  affinity:
                    podAntiAffinity:
                      requiredDuringSchedulingIgnoredDuringExecution:
                      - labelSelector:
                          matchLabels: {app: solo}
                        topologyKey: kubernetes.io/hostname
            """;
        await ApplyAsync(Deployment("solo", 6, extraSpec: affinity));

        (await K("wait", "--for=jsonpath={.status.readyReplicas}=5", "deployment/solo", "--timeout=120s")).Ok();
        (await K("wait", "--for=condition=PodScheduled=false", "pod", "-l", "app=solo", "--field-selector=spec.nodeName=", "--timeout=60s")).Ok();

        var pods = await PodsAsync("solo");
        var placed = pods.Where(p => p.Node.Length > 0).Select(p => p.Node).ToList();
        Assert.Equal(SimulatedCluster.NodeNames.Order(), placed.Order());
        var pending = Assert.Single(pods, p => p.Node.Length == 0).Pod;
        Assert.Equal("Pending", (await K("get", "pod", pending, "-o", "jsonpath={.status.phase}")).Ok().Output);
        Assert.Equal(
            "0/5 nodes are available: 5 node(s) didn't match pod anti-affinity rules. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.",
            await ConditionMessageAsync(pending));
    }

    [Fact]
    public async Task NodeSelector_Impossible_PendingWithUpstreamMessageAndExplained()
    {
        await ApplyAsync(Deployment("nowhere", 1, extraSpec: "      nodeSelector: {disktype: none-such}"));
        var pod = await PendingPodAsync("nowhere");

        Assert.Equal(
            "0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.",
            await ConditionMessageAsync(pod));
        var events = (await K("get", "events", "--field-selector", "involvedObject.name=" + pod + ",reason=FailedScheduling", "-o", "jsonpath={.items[*].message}")).Ok().Output;
        Assert.Contains("didn't match Pod's node affinity/selector", events, StringComparison.Ordinal);

        var explained = await cluster.KubesharpAsync("explain", "pod", pod, "-n", ns, "--kubeconfig", cluster.Kubeconfig);
        explained.Ok();
        Assert.Contains($"Pod {ns}/{pod} is pending: Unschedulable", explained.Output, StringComparison.Ordinal);
        Assert.Contains("Nodes: 5 in the cluster, 5 evaluated, 0 feasible.", explained.Output, StringComparison.Ordinal);
        foreach (var node in SimulatedCluster.NodeNames)
        {
            Assert.Contains(explained.Output.Split('\n'), l => l.StartsWith("  " + node + " ", StringComparison.Ordinal) && l.Contains("NodeAffinity", StringComparison.Ordinal) && l.Contains("didn't match Pod's node affinity/selector", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Explain_UnknownPod_NotFound()
    {
        var explained = await cluster.KubesharpAsync("explain", "pod", "missing", "-n", ns, "--kubeconfig", cluster.Kubeconfig);

        Assert.Equal(1, explained.ExitCode);
        Assert.Contains("NotFound", explained.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CpuRequest_Impossible_PendingWithInsufficientCpu()
    {
        const string resources = """
                    resources:
                      requests: {cpu: "64"}
            """;
        await ApplyAsync(Deployment("hungry", 1, containerExtra: resources));
        var pod = await PendingPodAsync("hungry");

        Assert.Equal(
            "0/5 nodes are available: 5 Insufficient cpu. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.",
            await ConditionMessageAsync(pod));
    }

    [Fact]
    public async Task Drain_Node_PodsMoveOffAndCordonUncordonWork()
    {
        await ApplyAsync(Deployment("mobile", 10));
        (await K("rollout", "status", "deployment/mobile", "--timeout=120s")).Ok();
        var node = (await PodsAsync("mobile")).GroupBy(p => p.Node).MaxBy(g => g.Count())!.Key;

        var drain = await cluster.KubectlAsync("drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=120s");
        drain.Ok();
        Assert.Contains($"node/{node} drained", drain.Output, StringComparison.Ordinal);

        Assert.Equal("true", (await cluster.KubectlAsync("get", "node", node, "-o", "jsonpath={.spec.unschedulable}")).Ok().Output);
        Assert.Contains("SchedulingDisabled", (await cluster.KubectlAsync("get", "node", node)).Ok().Output, StringComparison.Ordinal);
        (await K("rollout", "status", "deployment/mobile", "--timeout=120s")).Ok();
        (await K("wait", "--for=jsonpath={.status.readyReplicas}=10", "deployment/mobile", "--timeout=120s")).Ok();
        var pods = await PodsAsync("mobile");
        Assert.DoesNotContain(pods, p => p.Node == node);

        (await cluster.KubectlAsync("uncordon", node)).Ok();
        Assert.Equal("", (await cluster.KubectlAsync("get", "node", node, "-o", "jsonpath={.spec.unschedulable}")).Ok().Output);
        (await cluster.KubectlAsync("cordon", node)).Ok();
        Assert.Equal("true", (await cluster.KubectlAsync("get", "node", node, "-o", "jsonpath={.spec.unschedulable}")).Ok().Output);
        (await cluster.KubectlAsync("uncordon", node)).Ok();

        // Uncordoned, the node takes new pods again.
        (await K("scale", "deployment/mobile", "--replicas=60")).Ok();
        (await K("rollout", "status", "deployment/mobile", "--timeout=120s")).Ok();
        Assert.Contains(await PodsAsync("mobile"), p => p.Node == node);
    }

    [Theory]
    [InlineData("background")]
    [InlineData("foreground")]
    public async Task Delete_CascadeDeletesDependents(string mode)
    {
        await ApplyAsync(Deployment("gone", 4));
        (await K("rollout", "status", "deployment/gone", "--timeout=120s")).Ok();

        (await K("delete", "deployment", "gone", "--cascade=" + mode, "--timeout=120s")).Ok();
        (await K("wait", "--for=delete", "pod", "-l", "app=gone", "--timeout=120s")).Ok();

        Assert.Equal("", (await K("get", "rs", "-l", "app=gone", "-o", "name")).Ok().Output);
        Assert.Equal("", (await K("get", "pods", "-l", "app=gone", "-o", "name")).Ok().Output);
    }

    [Fact]
    public async Task Delete_CascadeOrphan_KeepsReplicaSetAndPodsWithoutOwner()
    {
        await ApplyAsync(Deployment("orphans", 3));
        (await K("rollout", "status", "deployment/orphans", "--timeout=120s")).Ok();

        (await K("delete", "deployment", "orphans", "--cascade=orphan", "--timeout=120s")).Ok();

        Assert.Contains("not found", (await K("get", "deployment", "orphans")).Error, StringComparison.Ordinal);
        var rs = (await K("get", "rs", "-l", "app=orphans", "-o", "jsonpath={range .items[*]}{.metadata.name}:{.metadata.ownerReferences}{\"\\n\"}{end}")).Ok().Output;
        var line = Assert.Single(rs.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.EndsWith(":", line, StringComparison.Ordinal);
        Assert.Equal(3, (await PodsAsync("orphans")).Count);
    }

    [Fact]
    public async Task Delete_Namespace_RemovesEverythingInIt()
    {
        await ApplyAsync(Deployment("doomed", 5));
        (await K("rollout", "status", "deployment/doomed", "--timeout=120s")).Ok();
        (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n")).Ok();

        // Simulated pods end as soon as they are deleted (their 30 s grace period is not waited out), so the
        // namespace goes in well under that.
        (await cluster.KubectlAsync("delete", "namespace", ns, "--timeout=20s")).Ok();

        var get = await cluster.KubectlAsync("get", "namespace", ns);
        Assert.Contains("not found", get.Error, StringComparison.Ordinal);
        Assert.Equal("", (await cluster.KubectlAsync("get", "pods,rs,deployments,configmaps", "-n", ns, "-o", "name")).Ok().Output);
    }

    [Fact]
    public async Task Leases_EveryNode_HoldsOneInKubeNodeLease()
    {
        var leases = (await cluster.KubectlAsync("get", "leases", "-n", "kube-node-lease", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.holderIdentity}{\"\\n\"}{end}")).Ok().Output;

        var byName = leases.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=')).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        foreach (var node in SimulatedCluster.NodeNames)
        {
            Assert.Equal(node, byName.GetValueOrDefault(node));
        }

        var renewed = (await cluster.KubectlAsync("get", "lease", "sim-node-0", "-n", "kube-node-lease", "-o", "jsonpath={.spec.renewTime}")).Ok().Output;
        Assert.True(DateTimeOffset.TryParse(renewed, CultureInfo.InvariantCulture, out _), renewed);
    }
}
