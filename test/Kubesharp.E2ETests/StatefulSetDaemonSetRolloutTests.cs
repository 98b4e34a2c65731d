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

    private const string AllWorkloads = """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: db
        spec:
          serviceName: db
          replicas: 2
          selector:
            matchLabels: {app: db}
          template:
            metadata:
              labels: {app: db}
              annotations: {kubesharp.io/simulated-cpu-usage: 50m}
            spec:
              terminationGracePeriodSeconds: 1
              tolerations:
              - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
              containers:
              - name: db
                image: postgres:16
                resources: {requests: {cpu: 100m}}
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: logs
        spec:
          selector:
            matchLabels: {app: logs}
          template:
            metadata:
              labels: {app: logs}
            spec:
              terminationGracePeriodSeconds: 1
              tolerations:
              - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
              containers:
              - name: logs
                image: fluent/fluent-bit:3.1
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: report
        spec:
          completions: 2
          template:
            metadata:
              annotations: {kubesharp.io/simulated-exit-code: "0"}
            spec:
              restartPolicy: Never
              tolerations:
              - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
              containers:
              - name: report
                image: busybox:1.36
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata:
          name: nightly
        spec:
          schedule: "0 3 * * *"
          timeZone: Europe/Berlin
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: OnFailure
                  containers:
                  - name: backup
                    image: busybox:1.36
        ---
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata:
          name: db
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}
          minReplicas: 2
          maxReplicas: 2
          metrics:
          - type: Resource
            resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
        """;

    /// <summary>The tables of <c>kubectl get</c> over several kinds: one per kind, each a header and rows, cells split on two or more spaces.</summary>
    private static List<(string[] Headers, List<string[]> Rows)> Tables(string output) =>
        output.Replace("\r", string.Empty, StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(block => block.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => System.Text.RegularExpressions.Regex.Split(line.Trim(), @"\s{2,}")).ToList())
            .Select(lines => (lines[0], lines.Skip(1).ToList()))
            .ToList();

    [Fact]
    public async Task GetStsDsJobCronJobHpa_PrintsUpstreamColumnsWithLiveStatus()
    {
        await ApplyAsync(AllWorkloads);
        (await K("rollout", "status", "statefulset/db", "--timeout=120s")).Ok();
        (await K("rollout", "status", "daemonset/logs", "--timeout=120s")).Ok();
        (await K("wait", "--for=condition=Complete", "job/report", "--timeout=120s")).Ok();
        (await K("wait", "--for=jsonpath={.status.currentMetrics[0].resource.current.averageUtilization}=50", "hpa/db", "--timeout=120s")).Ok();

        var tables = Tables((await K("get", "sts,ds,job,cronjob,hpa")).Ok().Output);

        Assert.Equal(5, tables.Count);
        var (stsHeaders, sts) = tables[0];
        Assert.Equal(["NAME", "READY", "AGE"], stsHeaders);
        Assert.Equal(["statefulset.apps/db", "2/2"], sts.Single()[..2]);
        var (dsHeaders, ds) = tables[1];
        Assert.Equal(["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"], dsHeaders);
        var nodes = SimulatedCluster.Nodes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(["daemonset.apps/logs", nodes, nodes, nodes, nodes, nodes, "<none>"], ds.Single()[..7]);
        var (jobHeaders, job) = tables[2];
        Assert.Equal(["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], jobHeaders);
        Assert.Equal(["job.batch/report", "Complete", "2/2"], job.Single()[..3]);
        Assert.Matches(@"^\d+s$", job.Single()[3]);
        var (cronHeaders, cron) = tables[3];
        Assert.Equal(["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"], cronHeaders);
        Assert.Equal(["cronjob.batch/nightly", "0 3 * * *", "Europe/Berlin", "False", "0", "<none>"], cron.Single()[..6]);
        var (hpaHeaders, hpa) = tables[4];
        Assert.Equal(["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"], hpaHeaders);
        Assert.Equal(["horizontalpodautoscaler.autoscaling/db", "StatefulSet/db", "cpu: 50%/50%", "2", "2", "2"], hpa.Single()[..6]);
    }
}
