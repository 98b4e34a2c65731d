using Kubesharp.IntegrationTests.Support;

namespace Kubesharp.E2ETests;

/// <summary>
/// HorizontalPodAutoscalers through the real kubectl against the real server with simulated nodes, whose pods use the CPU
/// their <c>kubesharp.io/simulated-cpu-usage</c> annotation says (the server evaluates autoscalers every second here).
/// </summary>
[Collection(SimulatedClusterCollection.Name)]
public sealed class SimulatedAutoscalerTests(SimulatedCluster cluster) : IAsyncLifetime
{
    private readonly string ns = "hpa" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync() =>
        (await cluster.KubectlAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")).Ok();

    public async Task DisposeAsync() =>
        await cluster.KubectlAsync("delete", "namespace", ns, "--ignore-not-found", "--wait=false");

    private Task<Kubectl.Result> K(params string[] args) => cluster.KubectlAsync([.. args, "-n", ns]);

    /// <summary>An autoscaling/v2 autoscaler holding the target's pods at an average of 100Mi of memory.</summary>
    private static string MemoryAutoscaler(string name, string apiVersion, string kind, string target, int? minReplicas, int maxReplicas) => $$"""
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata:
          name: {{name}}
        spec:
          scaleTargetRef:
            apiVersion: {{apiVersion}}
            kind: {{kind}}
            name: {{target}}
        {{(minReplicas is { } min ? $"  minReplicas: {min}" : string.Empty)}}
          maxReplicas: {{maxReplicas}}
          metrics:
          - type: Resource
            resource:
              name: memory
              target: {type: AverageValue, averageValue: 100Mi}
        """;

    [Fact]
    public async Task Autoscale_UsageRaisedThenLowered_ScalesTheDeploymentUpThenDownAfterTheWindow()
    {
        const string manifest = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              replicas: 1
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                  annotations: {kubesharp.io/simulated-cpu-usage: 20m}
                spec:
                  tolerations:
                  - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
                  containers:
                  - name: app
                    image: nginx
                    resources:
                      requests: {cpu: 100m, memory: 64Mi}
            """;
        (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], manifest)).Ok();
        (await K("rollout", "status", "deployment/web", "--timeout=60s")).Ok();

        // kubectl autoscale writes autoscaling/v1; the v2 view carries the same target as a CPU resource metric.
        (await K("autoscale", "deployment", "web", "--cpu-percent=50", "--min=1", "--max=4")).Ok();
        Assert.Equal("50", (await K("get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "jsonpath={.spec.targetCPUUtilizationPercentage}")).Ok().Output);
        Assert.Equal("Resource cpu Utilization 50 1 4", (await K("get", "horizontalpodautoscalers.v2.autoscaling", "web", "-o",
            "jsonpath={.spec.metrics[0].type} {.spec.metrics[0].resource.name} {.spec.metrics[0].resource.target.type} {.spec.metrics[0].resource.target.averageUtilization} {.spec.minReplicas} {.spec.maxReplicas}")).Ok().Output);
        (await K("patch", "hpa", "web", "--type=merge", "-p", """{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":10}}}}""")).Ok();
        Assert.Equal("10 Max 0", (await K("get", "hpa", "web", "-o",
            "jsonpath={.spec.behavior.scaleDown.stabilizationWindowSeconds} {.spec.behavior.scaleDown.selectPolicy} {.spec.behavior.scaleUp.stabilizationWindowSeconds}")).Ok().Output);

        // 20m of 100m requested: 20% of the 50% target keeps the one replica, and the status says so.
        (await K("wait", "--for=jsonpath={.status.currentMetrics[0].resource.current.averageUtilization}=20", "hpa/web", "--timeout=60s")).Ok();
        Assert.Equal("1 1 True ValidMetricFound", (await K("get", "hpa", "web", "-o",
            "jsonpath={.status.currentReplicas} {.status.desiredReplicas} {.status.conditions[?(@.type==\"ScalingActive\")].status} {.status.conditions[?(@.type==\"ScalingActive\")].reason}")).Ok().Output);
        Assert.Matches(@"web-\S+\s+20m\s+", (await K("top", "pod", "-l", "app=web", "--no-headers")).Ok().Output);

        // Load: 200m per pod is 400% of the target; the deployment goes to the maximum of 4.
        (await K("annotate", "pods", "-l", "app=web", "kubesharp.io/simulated-cpu-usage=200m", "--overwrite")).Ok();
        (await K("wait", "--for=jsonpath={.spec.replicas}=4", "deployment/web", "--timeout=60s")).Ok();
        var events = (await K("get", "events", "--field-selector", "involvedObject.name=web,reason=SuccessfulRescale", "-o", "jsonpath={.items[*].message}")).Ok().Output;
        Assert.Contains("New size: 4; reason: cpu resource utilization (percentage of request) above target", events, StringComparison.Ordinal);
        Assert.NotEmpty((await K("get", "hpa", "web", "-o", "jsonpath={.status.lastScaleTime}")).Ok().Output);
        (await K("rollout", "status", "deployment/web", "--timeout=60s")).Ok();

        // Idle: the recommendation drops to 1 at once, but the 10 s scale-down window holds the count first.
        (await K("annotate", "pods", "-l", "app=web", "kubesharp.io/simulated-cpu-usage=5m", "--overwrite")).Ok();
        var sawStabilized = false;
        var replicas = "4";
        for (var i = 0; i < 240 && replicas != "1"; i++)
        {
            var state = (await K("get", "hpa", "web", "-o", "jsonpath={.status.conditions[?(@.type==\"AbleToScale\")].reason} {.status.currentReplicas}")).Ok().Output.Split(' ');
            sawStabilized |= state[0] == "ScaleDownStabilized";
            replicas = (await K("get", "deployment", "web", "-o", "jsonpath={.spec.replicas}")).Ok().Output;
            await Task.Delay(250);
        }

        Assert.Equal("1", replicas);
        Assert.True(sawStabilized, "the scale-down was not held by the stabilization window");
        events = (await K("get", "events", "--field-selector", "involvedObject.name=web,reason=SuccessfulRescale", "-o", "jsonpath={.items[*].message}")).Ok().Output;
        Assert.Contains("New size: 1; reason: All metrics below target", events, StringComparison.Ordinal);

        // The v1 view reports the current utilization and keeps what v1 cannot say in annotations.
        var v1 = (await K("get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "jsonpath={.status.currentCPUUtilizationPercentage} {.metadata.annotations.autoscaling\\.alpha\\.kubernetes\\.io/behavior}")).Ok().Output;
        Assert.Matches(@"^\d+ \{.*""scaleDown"":\{.*""stabilizationWindowSeconds"":10", v1);
    }

    [Fact]
    public async Task Autoscale_StatefulSetAndCustomResource_ScaleThroughTheirScaleSubresources()
    {
        // A StatefulSet and a custom resource with a scale subresource, each with pods using 250Mi against a 100Mi
        // average: both targets are scaled to 3 (250 / 100 of one pod, rounded up).
        var crd = new CustomResourceDefinitionManifest("e2e.kubesharp.io", $"pools{ns}", $"Pool{ns}")
        {
            Singular = $"pool{ns}",
            ListKind = $"Pool{ns}List",
            Versions =
            [
                new("v1")
                {
                    Storage = true,
                    Subresources = "{status: {}, scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector}}",
                    Spec = "{type: object, properties: {replicas: {type: integer}}}",
                    Status = "{type: object, properties: {replicas: {type: integer}, selector: {type: string}}}",
                },
            ],
        }.ToYaml();
        (await cluster.KubectlAsync(["apply", "-f", "-"], crd)).Ok();
        try
        {
            (await cluster.KubectlAsync("wait", "--for=condition=Established", $"crd/pools{ns}.e2e.kubesharp.io", "--timeout=60s")).Ok();
            var manifest = """
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: db}
                spec:
                  serviceName: db
                  replicas: 1
                  podManagementPolicy: Parallel
                  selector: {matchLabels: {app: db}}
                  template:
                    metadata:
                      labels: {app: db}
                      annotations: {kubesharp.io/simulated-memory-usage: 250Mi}
                    spec:
                      tolerations:
                      - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
                      containers:
                      - {name: db, image: postgres}
                ---
                apiVersion: v1
                kind: Pod
                metadata:
                  name: pool-member
                  labels: {app: pool}
                  annotations: {kubesharp.io/simulated-memory-usage: 250Mi}
                spec:
                  tolerations:
                  - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
                  containers:
                  - {name: worker, image: busybox}
                ---
                apiVersion: e2e.kubesharp.io/v1
                kind: Pool@NS@
                metadata: {name: pool}
                spec: {replicas: 1}
                """.Replace("@NS@", ns, StringComparison.Ordinal);
            (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], manifest)).Ok();
            (await K("patch", $"pools{ns}/pool", "--subresource=status", "--type=merge", "-p", """{"status":{"replicas":1,"selector":"app=pool"}}""")).Ok();
            (await K("rollout", "status", "statefulset/db", "--timeout=60s")).Ok();
            (await K("wait", "--for=condition=Ready", "pod/pool-member", "--timeout=60s")).Ok();
            using (var scale = System.Text.Json.JsonDocument.Parse((await K("get", "--raw", $"/apis/e2e.kubesharp.io/v1/namespaces/{ns}/pools{ns}/pool/scale")).Ok().Output))
            {
                var root = scale.RootElement;
                Assert.Equal((1, "app=pool"), (root.GetProperty("spec").GetProperty("replicas").GetInt32(), root.GetProperty("status").GetProperty("selector").GetString()));
            }

            foreach (var (kind, name) in new[] { ("StatefulSet", "db"), ($"Pool{ns}", "pool") })
            {
                var apiVersion = kind == "StatefulSet" ? "apps/v1" : "e2e.kubesharp.io/v1";
                var hpa = MemoryAutoscaler(name, apiVersion, kind, name, minReplicas: 1, maxReplicas: 5);
                (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], hpa)).Ok();
            }

            (await K("wait", "--for=jsonpath={.spec.replicas}=3", "statefulset/db", "--timeout=90s")).Ok();
            (await K("wait", "--for=jsonpath={.spec.replicas}=3", $"pools{ns}/pool", "--timeout=90s")).Ok();
            foreach (var name in new[] { "db", "pool" })
            {
                var events = (await K("get", "events", "--field-selector", $"involvedObject.name={name},involvedObject.kind=HorizontalPodAutoscaler,reason=SuccessfulRescale", "-o", "jsonpath={.items[*].message}")).Ok().Output;
                Assert.Contains("New size: 3; reason: memory resource above target", events, StringComparison.Ordinal);
            }

            Assert.Equal("3 memory", (await K("get", "hpa", "pool", "-o", "jsonpath={.status.desiredReplicas} {.status.currentMetrics[0].resource.name}")).Ok().Output);
        }
        finally
        {
            await K("delete", "hpa", "--all", "--wait=false");
            await cluster.KubectlAsync("delete", "crd", $"pools{ns}.e2e.kubesharp.io", "--ignore-not-found", "--wait=false");
        }
    }

    [Fact]
    public async Task Autoscaler_OfAMissingTarget_ReportsFailedGetScale()
    {
        var manifest = MemoryAutoscaler("orphan", "apps/v1", "Deployment", "absent", minReplicas: null, maxReplicas: 3);
        (await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], manifest)).Ok();
        (await K("wait", "--for=jsonpath={.status.conditions[0].reason}=FailedGetScale", "hpa/orphan", "--timeout=60s")).Ok();
        var condition = (await K("get", "hpa", "orphan", "-o", "jsonpath={.status.conditions[0].type} {.status.conditions[0].status} {.status.conditions[0].message}")).Ok().Output;
        Assert.Equal("AbleToScale False the HPA controller was unable to get the target's current scale: deployments.apps \"absent\" not found", condition);
        Assert.Equal("1", (await K("get", "hpa", "orphan", "-o", "jsonpath={.spec.minReplicas}")).Ok().Output);
    }

    [Fact]
    public async Task Create_MinAboveMax_IsRefusedWith422()
    {
        const string manifest = """
            apiVersion: autoscaling/v2
            kind: HorizontalPodAutoscaler
            metadata:
              name: bad
            spec:
              scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
              minReplicas: 5
              maxReplicas: 2
            """;
        var result = await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], manifest);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("spec.minReplicas: Invalid value: 5: must be less than or equal to maxReplicas", result.Error, StringComparison.Ordinal);
    }
}
