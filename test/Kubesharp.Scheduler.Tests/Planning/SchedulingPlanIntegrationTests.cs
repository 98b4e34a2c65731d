using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiMachinery.Serialization;
using Kubesharp.Client;
using Kubesharp.Client.Tests;
using Kubesharp.Kubelet.Simulation;
using Kubesharp.Scheduler.Planning;

namespace Kubesharp.Scheduler.Tests.Planning;

/// <summary>
/// SchedulingPlans posted to a real in-process API server with three simulated nodes (2 cpu each, tainted
/// kubesharp.io/simulated) that each run a 1500m filler pod, so 500m is free per node.
/// </summary>
public sealed class SchedulingPlanIntegrationTests : IAsyncLifetime, IDisposable
{
    private const string PlansPath = "/apis/plan.kubesharp.io/v1/schedulingplans";
    private const string Toleration = "tolerations: [{key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}]";
    private TestApiServer server = null!;
    private SimulatedNodeHost nodes = null!;
    private readonly CancellationTokenSource stopping = new();
    private Task controllers = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        server = await TestApiServer.StartAsync();

        // The node lifecycle controller lifts the not-ready taint nodes register with.
        controllers = ControllerManager.ControllerManager.RunAsync(
            server.Client, new ControllerManager.ControllerManagerOptions { LeaderElect = false }, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, stopping.Token);
        nodes = new SimulatedNodeHost(server.Client, new SimulatedNodeOptions { Count = 3, Cpu = "2", Memory = "8Gi", LeaseRenewInterval = TimeSpan.FromMinutes(10) });
        await nodes.StartAsync(CancellationToken.None);
        await nodes.Ready.WaitAsync(TimeSpan.FromSeconds(60));
        var pods = server.Client.Resource<Pod>();
        for (var i = 0; i < 3; i++)
        {
            await pods.CreateAsync(new Pod
            {
                Metadata = new ObjectMeta { Name = $"filler-{i}", Namespace = "default" },
                Spec = new PodSpec
                {
                    NodeName = $"sim-node-{i}",
                    Containers = [new Container { Name = "c", Image = "busybox", Resources = new ResourceRequirements { Requests = new() { ["cpu"] = Quantity.Parse("1500m") } } }],
                },
            });
        }

        // The plan reads the server's cache: wait (bounded) until it holds the three Ready nodes and the fillers.
        for (var i = 0; i < 300; i++)
        {
            var probe = await PlanAsync(Yaml("""
                apiVersion: v1
                kind: Pod
                metadata: {name: small}
                spec:
                  containers: [{name: c, image: busybox, resources: {requests: {cpu: 10m}}}]
                  TOLERATION
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: large}
                spec:
                  containers: [{name: c, image: busybox, resources: {requests: {cpu: 600m}}}]
                  TOLERATION
                """));
            var status = probe["status"]!;
            var running = (await pods.ListAsync("default")).Items.Count(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
            if ((int?)status["nodes"] == 3 && (string?)Pod(probe, "small")["phase"] == "Scheduled" && running == 3
                && Pod(probe, "large")["reasons"] is JsonArray { Count: 1 } reasons && (string?)reasons[0]!["plugin"] == "NodeResourcesFit")
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("the nodes and filler pods did not reach the API server's cache");
    }

    public async Task DisposeAsync()
    {
        await nodes.StopAsync(CancellationToken.None);
        await stopping.CancelAsync();
        await controllers;
        await server.DisposeAsync();
    }

    public void Dispose()
    {
        nodes.Dispose();
        stopping.Dispose();
    }

    private static JsonArray Yaml(string yaml) => new([.. YamlDecoder.DecodeAll(yaml.Replace("TOLERATION", Toleration, StringComparison.Ordinal))]);

    private Task<JsonObject> PlanAsync(JsonArray objects, JsonObject? addNodes = null) => PlanAsync(server.Client, objects, addNodes);

    private static async Task<JsonObject> PlanAsync(KubernetesClient client, JsonArray objects, JsonObject? addNodes = null)
    {
        var spec = new JsonObject { ["objects"] = objects.DeepClone() };
        if (addNodes is not null)
        {
            spec["addNodes"] = addNodes;
        }

        var answer = await client.SendJsonAsync(HttpMethod.Post, PlansPath, new JsonObject { ["apiVersion"] = "plan.kubesharp.io/v1", ["kind"] = "SchedulingPlan", ["spec"] = spec });
        return answer!;
    }

    private static JsonObject Pod(JsonObject plan, string name) =>
        plan["status"]!["pods"]!.AsArray().OfType<JsonObject>().Single(p => (string?)p["name"] == name);

    private static IEnumerable<JsonObject> PodsOf(JsonObject plan, string owner) =>
        plan["status"]!["pods"]!.AsArray().OfType<JsonObject>().Where(p => (string?)p["owner"] == owner);

    [Fact]
    public async Task Plan_Workloads_PlacesByResourcesTaintsAndAffinityAndCountsEarlierPods()
    {
        var plan = await PlanAsync(Yaml("""
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: agent}
            spec:
              selector: {matchLabels: {app: agent}}
              template:
                metadata: {labels: {app: agent}}
                spec:
                  containers: [{name: c, image: busybox, resources: {requests: {cpu: 50m}}}]
                  TOLERATION
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: 3
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers: [{name: c, image: nginx, resources: {limits: {cpu: 400m, memory: 64Mi}}}]
                  TOLERATION
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: more}
            spec:
              replicas: 1
              selector: {matchLabels: {app: more}}
              template:
                metadata: {labels: {app: more}}
                spec:
                  containers: [{name: c, image: nginx, resources: {requests: {cpu: 400m}}}]
                  TOLERATION
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: untolerating}
            spec:
              containers: [{name: c, image: busybox, resources: {requests: {cpu: 10m}}}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: pinned}
            spec:
              nodeSelector: {kubernetes.io/hostname: sim-node-1}
              containers: [{name: c, image: busybox, resources: {requests: {cpu: 10m}}}]
              TOLERATION
            ---
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: db}
            spec:
              replicas: 2
              serviceName: db
              selector: {matchLabels: {app: db}}
              template:
                metadata: {labels: {app: db}}
                spec:
                  containers: [{name: c, image: busybox, resources: {requests: {cpu: 10m}}}]
                  TOLERATION
            ---
            apiVersion: batch/v1
            kind: Job
            metadata: {name: batch}
            spec:
              parallelism: 2
              completions: 5
              template:
                spec:
                  restartPolicy: Never
                  containers: [{name: c, image: busybox, resources: {requests: {cpu: 10m}}}]
                  TOLERATION
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              ports: [{port: 80}]
            """));

        var status = plan["status"]!;
        Assert.Equal("SchedulingPlan", (string?)plan["kind"]);
        Assert.Equal(3, (int?)status["nodes"]);
        Assert.Equal(["Service/web"], status["ignored"]!.AsArray().Select(n => (string?)n));

        // DaemonSet: one pod per node, pinned there.
        var daemons = PodsOf(plan, "DaemonSet/agent").ToList();
        Assert.Equal(["sim-node-0", "sim-node-1", "sim-node-2"], daemons.Select(p => (string?)p["node"]).Order());
        Assert.All(daemons, d => Assert.Equal("agent-" + (string?)d["node"], (string?)d["name"]));

        // Requests default to limits; 450m is left per node, so at most one 400m replica per node.
        var web = PodsOf(plan, "Deployment/web").ToList();
        Assert.Equal(3, web.Count);
        Assert.All(web, p => Assert.Equal("Scheduled", (string?)p["phase"]));
        Assert.Equal(3, web.Select(p => (string?)p["node"]).Distinct().Count());

        // Counted against later pods: nothing is left for a fourth.
        var more = PodsOf(plan, "Deployment/more").Single();
        Assert.Equal("Pending", (string?)more["phase"]);
        Assert.Null(more["node"]);
        Assert.StartsWith("0/3 nodes are available: 3 Insufficient cpu.", (string?)more["message"], StringComparison.Ordinal);
        var fit = more["reasons"]!.AsArray().OfType<JsonObject>().Single();
        Assert.Equal("NodeResourcesFit", (string?)fit["plugin"]);
        Assert.Equal("Insufficient cpu", (string?)fit["reason"]);
        Assert.Equal(3, (int?)fit["nodes"]);

        var untolerating = Pod(plan, "untolerating");
        Assert.Equal("Pending", (string?)untolerating["phase"]);
        var taint = untolerating["reasons"]!.AsArray().OfType<JsonObject>().Single();
        Assert.Equal("TaintToleration", (string?)taint["plugin"]);
        Assert.Equal("node(s) had untolerated taint {kubesharp.io/simulated: true}", (string?)taint["reason"]);
        Assert.Equal(3, (int?)taint["nodes"]);

        Assert.Equal("sim-node-1", (string?)Pod(plan, "pinned")["node"]);
        Assert.Equal(["db-0", "db-1"], PodsOf(plan, "StatefulSet/db").Select(p => (string?)p["name"]));
        Assert.All(PodsOf(plan, "StatefulSet/db"), p => Assert.Equal("Scheduled", (string?)p["phase"]));
        Assert.Equal(2, PodsOf(plan, "Job/batch").Count(p => (string?)p["phase"] == "Scheduled"));
        Assert.Equal(11, (int?)status["scheduled"]);
        Assert.Equal(2, (int?)status["pending"]);
    }

    [Fact]
    public async Task Plan_HigherPriorityPod_PreemptsLowerPriorityPodAndNothingIsWritten()
    {
        var pods = server.Client.Resource<Pod>();
        var before = (await pods.ListAsync("default")).Items.ToDictionary(p => p.Metadata!.Name!, p => p.Metadata!.ResourceVersion);

        var plan = await PlanAsync(Yaml("""
            apiVersion: scheduling.k8s.io/v1
            kind: PriorityClass
            metadata: {name: high}
            value: 1000
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: vip}
            spec:
              priorityClassName: high
              containers: [{name: c, image: busybox, resources: {requests: {cpu: "1"}}}]
              TOLERATION
            """));

        var vip = Pod(plan, "vip");
        Assert.Equal("Scheduled", (string?)vip["phase"]);
        Assert.Equal(1000, (int?)vip["priority"]);
        var node = (string?)vip["node"];
        var victim = vip["preempts"]!.AsArray().OfType<JsonObject>().Single();
        Assert.Equal("filler-" + node![^1], (string?)victim["name"]);
        Assert.Equal(0, (int?)victim["priority"]);
        Assert.False((bool?)victim["planned"]);
        Assert.Equal(1, (int?)plan["status"]!["preempted"]);
        Assert.Contains("Insufficient cpu", (string?)vip["message"], StringComparison.Ordinal);

        // Nothing written: the pods and their resourceVersions are as before, and the plan's class does not exist.
        var after = (await pods.ListAsync("default")).Items.ToDictionary(p => p.Metadata!.Name!, p => p.Metadata!.ResourceVersion);
        Assert.Equal(before, after);
        var error = await Assert.ThrowsAsync<StatusException>(() => server.Client.Resource<Api.Scheduling.V1.PriorityClass>().GetAsync(null, "high"));
        Assert.True(error.IsNotFound());
        Assert.DoesNotContain((await pods.ListAsync("default")).Items, p => p.Metadata!.Name == "vip");
    }

    [Fact]
    public async Task Plan_AddNodes_PlacesPodsThatFitOnlyTheNewNodes()
    {
        var objects = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: big}
            spec:
              replicas: 2
              selector: {matchLabels: {app: big}}
              template:
                metadata: {labels: {app: big}}
                spec:
                  nodeSelector: {pool: new}
                  containers: [{name: c, image: nginx, resources: {requests: {cpu: "3", memory: 4Gi}}}]
            """;

        var without = await PlanAsync(Yaml(objects));
        var withNodes = await PlanAsync(Yaml(objects), new JsonObject
        {
            ["count"] = 2,
            ["capacity"] = new JsonObject { ["cpu"] = "4", ["memory"] = "8Gi" },
            ["labels"] = new JsonObject { ["pool"] = "new" },
        });

        Assert.All(PodsOf(without, "Deployment/big"), p => Assert.Equal("Pending", (string?)p["phase"]));
        Assert.Equal("NodeAffinity", (string?)PodsOf(without, "Deployment/big").First()["reasons"]![0]!["plugin"]);
        Assert.Equal(5, (int?)withNodes["status"]!["nodes"]);
        Assert.Equal(["planned-node-1", "planned-node-2"], withNodes["status"]!["addedNodes"]!.AsArray().Select(n => (string?)n));
        Assert.Equal(["planned-node-1", "planned-node-2"], PodsOf(withNodes, "Deployment/big").Select(p => (string?)p["node"]).Order());
        Assert.Null(await server.Client.GetJsonAsync("/api/v1/nodes/planned-node-1"));
    }

    [Fact]
    public async Task Plan_BadInput_InvalidOrBadRequestStatus()
    {
        var missing = await Assert.ThrowsAsync<StatusException>(() => PlanAsync([]));
        Assert.Equal(422, missing.Code);
        Assert.Equal("Invalid", missing.Reason);
        Assert.Contains("spec.objects: Required value", missing.Message, StringComparison.Ordinal);

        var negative = await Assert.ThrowsAsync<StatusException>(() => PlanAsync(Yaml("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: -1
              template: {spec: {containers: [{name: c, image: nginx}]}}
            """)));
        Assert.Equal(422, negative.Code);
        Assert.Contains("spec.objects[0].spec.replicas", negative.Message, StringComparison.Ordinal);

        var noShape = await Assert.ThrowsAsync<StatusException>(() => PlanAsync(Yaml("""
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec: {containers: [{name: c, image: nginx}]}
            """), new JsonObject { ["count"] = 1 }));
        Assert.Equal(422, noShape.Code);
        Assert.Contains("spec.addNodes.capacity[cpu]", noShape.Message, StringComparison.Ordinal);

        var wrongKind = await Assert.ThrowsAsync<StatusException>(() => server.Client.SendJsonAsync(HttpMethod.Post, PlansPath, new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod" }));
        Assert.Equal(400, wrongKind.Code);
    }

    [Fact]
    public async Task Plan_WithoutPermission_ForbiddenUntilGrantedCreateOnSchedulingPlans()
    {
        await server.Client.SendJsonAsync(HttpMethod.Post, "/api/v1/namespaces/default/serviceaccounts", JsonNode.Parse("""{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"planner"}}""")!.AsObject());
        var request = await server.Client.SendJsonAsync(HttpMethod.Post, "/api/v1/namespaces/default/serviceaccounts/planner/token", JsonNode.Parse("""{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}""")!.AsObject());
        var token = (string)request!["status"]!["token"]!;
        using var planner = new KubernetesClient(KubernetesClientOptions.FromKubeconfig(server.KubeconfigPath) with { ClientCertificatePem = null, ClientKeyPem = null, BearerToken = token });
        var objects = Yaml("""
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec: {containers: [{name: c, image: nginx}]}
            """);

        var forbidden = await Assert.ThrowsAsync<StatusException>(() => PlanAsync(planner, objects));
        Assert.Equal(403, forbidden.Code);
        Assert.Contains("cannot create resource \"schedulingplans\" in API group \"plan.kubesharp.io\"", forbidden.Message, StringComparison.Ordinal);

        await server.Client.SendJsonAsync(HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/clusterroles", JsonNode.Parse("""
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"planner"},
             "rules":[{"apiGroups":["plan.kubesharp.io"],"resources":["schedulingplans"],"verbs":["create"]}]}
            """)!.AsObject());
        await server.Client.SendJsonAsync(HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", JsonNode.Parse("""
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"planner"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"planner"},
             "subjects":[{"kind":"ServiceAccount","name":"planner","namespace":"default"}]}
            """)!.AsObject());
        JsonObject? allowed = null;
        for (var i = 0; i < 100 && allowed is null; i++)
        {
            try
            {
                allowed = await PlanAsync(planner, objects);
            }
            catch (StatusException e) when (e.Code == 403)
            {
                // The authorizer sees the new binding once it reaches the server's cache.
                await Task.Delay(50);
            }
        }

        Assert.NotNull(allowed);
        Assert.Single(allowed["status"]!["pods"]!.AsArray());
    }
}
