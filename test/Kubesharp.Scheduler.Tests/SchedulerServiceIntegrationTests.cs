using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Tests;
using Kubesharp.Kubelet.Simulation;

namespace Kubesharp.Scheduler.Tests;

public sealed class SchedulerServiceIntegrationTests
{
    private static Pod Tolerating(string name, string cpu, Dictionary<string, string>? selector = null) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = "default", Labels = new() { ["app"] = "web" } },
        Spec = new PodSpec
        {
            NodeSelector = selector,
            Tolerations = [new Toleration { Key = SimulatedNodeOptions.TaintKey, Operator = "Exists", Effect = "NoSchedule" }],
            Containers = [new Container { Name = "c", Image = "busybox", Resources = new ResourceRequirements { Requests = new() { ["cpu"] = Quantity.Parse(cpu) } } }],
        },
    };

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    [Fact]
    public async Task Scheduler_IdleWithEveryPodPlaced_AppliesNodeChangesAsTheyCome()
    {
        await using var cluster = await SimulatedCluster.StartAsync(nodeCount: 2);
        var pods = cluster.Server.Client.Resource<Pod>();
        await pods.CreateAsync(Tolerating("placed", "100m"));
        await EventuallyAsync(async () => (await pods.GetAsync("default", "placed")).Spec?.NodeName is { Length: > 0 } node ? node : null);

        // No pod is waiting, so no attempt comes to apply these: each update (and the Node it carries) must not wait for one.
        var nodeClient = cluster.Server.Client.Resource<Node>();
        var names = (await nodeClient.ListAsync(null)).Items.Select(n => n.Metadata!.Name!).ToList();
        for (var i = 0; i < 20; i++)
        {
            await nodeClient.PatchAsync(null, names[i % names.Count], Client.PatchType.Merge, "{\"metadata\":{\"labels\":{\"round\":\"" + i + "\"}}}");
        }

        await EventuallyAsync(() => Task.FromResult(cluster.Scheduler.PendingCacheUpdates == 0 ? "applied" : null));
    }

    [Fact]
    public async Task Scheduler_SimulatedNodes_SpreadsRunningPodsAndReportsUnschedulable()
    {
        // The pods' addresses come from the pod CIDRs the node IPAM controller gives the nodes.
        await using var cluster = await SimulatedCluster.StartAsync(nodeCount: 3);
        var pods = cluster.Server.Client.Resource<Pod>();

        for (var i = 0; i < 6; i++)
        {
            await pods.CreateAsync(Tolerating($"web-{i}", "500m"));
        }

        await pods.CreateAsync(Tolerating("huge", "64"));
        await pods.CreateAsync(Tolerating("nowhere", "100m", new() { ["disk"] = "ssd" }));
        var running = await EventuallyAsync(async () =>
        {
            var list = (await pods.ListAsync("default", new Client.ListOptions { LabelSelector = "app=web" })).Items;
            var web = list.Where(p => p.Metadata!.Name!.StartsWith("web-", StringComparison.Ordinal)).ToList();
            return web.Count == 6 && web.All(p => p.Status?.Phase == "Running") ? web : null;
        });
        var huge = await EventuallyAsync(async () =>
        {
            var pod = await pods.GetAsync("default", "huge");
            return pod.Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Status == "False") == true
                && pod.Metadata?.Annotations?.ContainsKey(SchedulingVerdict.AnnotationKey) == true ? pod : null;
        });
        var nowhere = await EventuallyAsync(async () =>
        {
            var pod = await pods.GetAsync("default", "nowhere");
            return pod.Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Status == "False") == true ? pod : null;
        });
        var events = await EventuallyAsync(async () =>
        {
            var list = (await cluster.Server.Client.Resource<Event>().ListAsync("default")).Items;
            return list.Any(e => e.Reason == "FailedScheduling" && e.InvolvedObject?.Name == "huge") ? list : null;
        });

        Assert.Equal(3, running.Select(p => p.Spec!.NodeName).Distinct().Count());
        Assert.All(running, p => Assert.StartsWith("10.42.", p.Status!.PodIP, StringComparison.Ordinal));
        var condition = huge.Status!.Conditions!.Single(c => c.Type == "PodScheduled");
        Assert.Equal("Unschedulable", condition.Reason);
        Assert.Equal("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.", condition.Message);
        Assert.Equal(
            "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
            nowhere.Status!.Conditions!.Single(c => c.Type == "PodScheduled").Message);
        Assert.Contains("Insufficient cpu", huge.Metadata!.Annotations![SchedulingVerdict.AnnotationKey], StringComparison.Ordinal);
        Assert.Contains(events, e => e.Reason == "Scheduled" && e.Type == "Normal");
    }
}
