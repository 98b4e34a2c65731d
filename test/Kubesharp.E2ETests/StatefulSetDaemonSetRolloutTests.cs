namespace Kubesharp.E2ETests;

/// <summary>
/// StatefulSets and DaemonSets through the real kubectl on <c>kubesharp server --simulated-nodes 5</c>:
/// ordered scaling and the rollout verbs (status, history, undo, restart).
/// </summary>
[Collection(SimulatedClusterCollection.Name)]
public sealed class StatefulSetDaemonSetRolloutTests(SimulatedCluster cluster) : IAsyncLifetime
{
    private readonly string ns = "w" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync() =>
        (await cluster.KubectlAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")).Ok();

    public async Task DisposeAsync() =>
        await cluster.KubectlAsync("delete", "namespace", ns, "--ignore-not-found", "--wait=false");

    private Task<Kubectl.Result> K(params string[] args) => cluster.KubectlAsync([.. args, "-n", ns]);

    private async Task ApplyAsync(string manifest) => (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], manifest)).Ok();

    private const string StatefulSet = """
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          clusterIP: None
          selector: {app: web}
          ports:
          - port: 80
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: web
        spec:
          serviceName: web
          replicas: 3
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              terminationGracePeriodSeconds: 1
              tolerations:
              - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
              containers:
              - name: web
                image: nginx:1.25
        """;

    private const string DaemonSet = """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: agent
        spec:
          selector:
            matchLabels: {app: agent}
          template:
            metadata:
              labels: {app: agent}
            spec:
              terminationGracePeriodSeconds: 1
              tolerations:
              - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
              containers:
              - name: agent
                image: busybox:1.36
        """;

    private static List<string> Revisions(string history) =>
        history.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]).ToList();

    private async Task<string> JsonPathAsync(string resource, string path) =>
        (await K("get", resource, "-o", "jsonpath=" + path)).Ok().Output;

    [Fact]
    public async Task StatefulSet_RolloutStatusHistoryUndoRestart_AndOrderedScaling()
    {
        await ApplyAsync(StatefulSet);

        var status = (await K("rollout", "status", "statefulset/web", "--timeout=120s")).Ok().Output;
        Assert.Contains("partitioned roll out complete: 3 new pods have been updated...", status, StringComparison.Ordinal);
        var table = (await K("get", "statefulset", "web")).Ok().Output;
        Assert.Matches(@"web\s+3/3\s", table);
        Assert.Equal("web-0 web-1 web-2", await JsonPathAsync("pods", "{.items[*].metadata.name}"));

        (await K("set", "image", "statefulset/web", "web=nginx:1.26")).Ok();
        (await K("rollout", "status", "statefulset/web", "--timeout=120s")).Ok();
        Assert.Equal("nginx:1.26 nginx:1.26 nginx:1.26", await JsonPathAsync("pods", "{.items[*].spec.containers[0].image}"));
        Assert.Equal(["1", "2"], Revisions((await K("rollout", "history", "statefulset/web")).Ok().Output));
        Assert.Contains("nginx:1.26", (await K("rollout", "history", "statefulset/web", "--revision=2")).Ok().Output, StringComparison.Ordinal);

        var undo = (await K("rollout", "undo", "statefulset/web")).Ok().Output;
        Assert.Contains("statefulset.apps/web rolled back", undo, StringComparison.Ordinal);
        (await K("rollout", "status", "statefulset/web", "--timeout=120s")).Ok();
        Assert.Equal("nginx:1.25", await JsonPathAsync("statefulset/web", "{.spec.template.spec.containers[0].image}"));
        (await K("wait", "--for=jsonpath={.status.updatedReplicas}=3", "statefulset/web", "--timeout=120s")).Ok();
        Assert.Equal("nginx:1.25 nginx:1.25 nginx:1.25", await JsonPathAsync("pods", "{.items[*].spec.containers[0].image}"));
        Assert.Equal(["2", "3"], Revisions((await K("rollout", "history", "statefulset/web")).Ok().Output));

        Assert.Contains("statefulset.apps/web restarted", (await K("rollout", "restart", "statefulset/web")).Ok().Output, StringComparison.Ordinal);
        (await K("rollout", "status", "statefulset/web", "--timeout=120s")).Ok();
        (await K("wait", "--for=jsonpath={.status.updatedReplicas}=3", "statefulset/web", "--timeout=120s")).Ok();
        var restartedAt = await JsonPathAsync("pods", "{.items[*].metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}");
        Assert.Equal(3, restartedAt.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(["2", "3", "4"], Revisions((await K("rollout", "history", "statefulset/web")).Ok().Output));

        (await K("scale", "statefulset/web", "--replicas=1")).Ok();
        (await K("wait", "--for=jsonpath={.status.replicas}=1", "statefulset/web", "--timeout=120s")).Ok();
        Assert.Equal("web-0", await JsonPathAsync("pods", "{.items[*].metadata.name}"));
        var deletions = (await K("get", "events", "--field-selector=involvedObject.name=web,reason=SuccessfulDelete", "--sort-by=.metadata.creationTimestamp", "-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")).Ok().Output;
        Assert.Contains("delete Pod web-2 in StatefulSet web successful", deletions, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DaemonSet_RolloutStatusHistoryUndoRestart_OnEveryNode()
    {
        await ApplyAsync(DaemonSet);

        var status = (await K("rollout", "status", "daemonset/agent", "--timeout=120s")).Ok().Output;
        Assert.Contains("daemon set \"agent\" successfully rolled out", status, StringComparison.Ordinal);
        var nodes = (await JsonPathAsync("pods", "{.items[*].spec.nodeName}")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Order();
        Assert.Equal(SimulatedCluster.NodeNames.Order(), nodes);
        Assert.Matches(@"agent\s+5\s+5\s+5\s+5\s+5\s", (await K("get", "daemonset", "agent")).Ok().Output);

        (await K("set", "image", "daemonset/agent", "agent=busybox:1.37")).Ok();
        (await K("rollout", "status", "daemonset/agent", "--timeout=180s")).Ok();
        Assert.Equal(["1", "2"], Revisions((await K("rollout", "history", "daemonset/agent")).Ok().Output));
        Assert.Equal(["busybox:1.37"], (await JsonPathAsync("pods", "{.items[*].spec.containers[0].image}")).Split(' ').Distinct());

        Assert.Contains("daemonset.apps/agent rolled back", (await K("rollout", "undo", "daemonset/agent")).Ok().Output, StringComparison.Ordinal);
        (await K("rollout", "status", "daemonset/agent", "--timeout=180s")).Ok();
        Assert.Equal("busybox:1.36", await JsonPathAsync("daemonset/agent", "{.spec.template.spec.containers[0].image}"));
        Assert.Equal(["2", "3"], Revisions((await K("rollout", "history", "daemonset/agent")).Ok().Output));

        Assert.Contains("daemonset.apps/agent restarted", (await K("rollout", "restart", "daemonset/agent")).Ok().Output, StringComparison.Ordinal);
        (await K("rollout", "status", "daemonset/agent", "--timeout=180s")).Ok();
        var restartedAt = await JsonPathAsync("pods", "{.items[*].metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}");
        Assert.Equal(5, restartedAt.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
