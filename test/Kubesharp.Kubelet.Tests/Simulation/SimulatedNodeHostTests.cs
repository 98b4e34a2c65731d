using Kubesharp.Api.Coordination.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Tests;
using Kubesharp.Kubelet.Simulation;

namespace Kubesharp.Kubelet.Tests.Simulation;

public sealed class SimulatedNodeHostTests
{
    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    /// <summary>The controller manager, whose node IPAM controller gives the simulated nodes their pod CIDRs.</summary>
    private static Task RunControllersAsync(KubernetesClient client, CancellationToken cancellationToken) =>
        ControllerManager.ControllerManager.RunAsync(
            client,
            new ControllerManager.ControllerManagerOptions { LeaderElect = false, ClusterCidr = "10.99.0.0/16" },
            TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            cancellationToken);

    [Fact]
    public async Task Start_ThreeNodes_RegisteredReadyTaintedWithLeasesAndPodCidrsFromTheClusterCidr()
    {
        await using var server = await TestApiServer.StartAsync();
        using var stopping = new CancellationTokenSource();
        var controllers = RunControllersAsync(server.Client, stopping.Token);
        using var host = new SimulatedNodeHost(server.Client, new SimulatedNodeOptions { Count = 3 });
        await host.StartAsync(CancellationToken.None);
        await host.Ready.WaitAsync(TimeSpan.FromSeconds(60));

        var nodes = await EventuallyAsync(async () =>
        {
            var list = (await server.Client.Resource<Node>().ListAsync(null)).Items.OrderBy(n => n.Metadata!.Name).ToList();
            // The lifecycle controller may have tainted a node not-ready before its first Ready status; it lifts that taint.
            return list.All(n => n.Spec?.PodCIDR is not null && n.Spec.Taints?.Count == 1) ? list : null;
        });
        var lease = await server.Client.Resource<Lease>().GetAsync("kube-node-lease", "sim-node-2");
        await host.StopAsync(CancellationToken.None);
        await stopping.CancelAsync();
        await controllers;

        Assert.Equal(["sim-node-0", "sim-node-1", "sim-node-2"], nodes.Select(n => n.Metadata!.Name));
        Assert.All(nodes, n => Assert.Equal("True", n.Status!.Conditions!.Single(c => c.Type == "Ready").Status));
        Assert.All(nodes, n => Assert.Matches(@"^10\.99\.\d+\.0/24$", n.Spec!.PodCIDR));
        Assert.Equal(3, nodes.Select(n => n.Spec!.PodCIDR).Distinct().Count());
        Assert.Equal("kubesharp.io/simulated", Assert.Single(nodes[0].Spec!.Taints!).Key);
        Assert.Equal("sim-node-2", lease.Spec!.HolderIdentity);
    }

    [Fact]
    public async Task BoundPod_BecomesRunningReady_ThenDeletionCompletesAfterItsGracePeriod()
    {
        await using var server = await TestApiServer.StartAsync();
        using var stopping = new CancellationTokenSource();
        var controllers = RunControllersAsync(server.Client, stopping.Token);
        using var host = new SimulatedNodeHost(server.Client, new SimulatedNodeOptions { Count = 1, Termination = SimulatedPodTermination.Graceful });
        await host.StartAsync(CancellationToken.None);
        await host.Ready.WaitAsync(TimeSpan.FromSeconds(60));
        var pods = server.Client.Resource<Pod>();
        await pods.CreateAsync(new Pod
        {
            Metadata = new ObjectMeta { Name = "p", Namespace = "default", Labels = new() { ["app"] = "p" } },
            Spec = new PodSpec { NodeName = "sim-node-0", TerminationGracePeriodSeconds = 2, Containers = [new Container { Name = "c", Image = "busybox", Args = ["sleep", "1d"] }] },
        });

        var running = await EventuallyAsync(async () =>
        {
            var pod = await pods.GetAsync("default", "p");
            return pod.Status?.Phase == "Running" ? pod : null;
        });
        var deletedAt = DateTimeOffset.UtcNow;
        await pods.DeleteAsync("default", "p");
        var gone = await EventuallyAsync(async () => (await pods.ListAsync("default")).Items.Count == 0 ? "gone" : null);
        var took = DateTimeOffset.UtcNow - deletedAt;
        await host.StopAsync(CancellationToken.None);

        await stopping.CancelAsync();
        await controllers;
        var node = await server.Client.Resource<Node>().GetAsync(null, "sim-node-0");
        Assert.Equal(node.Spec!.PodCIDR!.Replace(".0/24", ".2", StringComparison.Ordinal), running.Status!.PodIP);
        Assert.Equal("True", running.Status.Conditions!.Single(c => c.Type == "Ready").Status);
        Assert.True(Assert.Single(running.Status.ContainerStatuses!).Ready);
        // The host caches a slim copy of the pod; its status write leaves the rest of the pod as it was.
        Assert.Equal("p", running.Metadata!.Labels!["app"]);
        Assert.Equal(["sleep", "1d"], Assert.Single(running.Spec!.Containers!).Args);
        Assert.Equal("gone", gone);
        // deletionTimestamp holds whole seconds, so the 2 s grace period ends between 1 and 2 s after the delete.
        Assert.True(took >= TimeSpan.FromSeconds(0.9), $"removed after {took}, before its 2 s grace period");
    }

    [Fact]
    public async Task DeletedPod_PromptByDefault_GoneLongBeforeItsGracePeriodUnlessAnnotatedGraceful()
    {
        await using var server = await TestApiServer.StartAsync();
        using var stopping = new CancellationTokenSource();
        var controllers = RunControllersAsync(server.Client, stopping.Token);
        using var host = new SimulatedNodeHost(server.Client, new SimulatedNodeOptions { Count = 1 });
        await host.StartAsync(CancellationToken.None);
        await host.Ready.WaitAsync(TimeSpan.FromSeconds(60));
        var pods = server.Client.Resource<Pod>();
        Pod NewPod(string name, string? termination) => new()
        {
            Metadata = new ObjectMeta
            {
                Name = name,
                Namespace = "default",
                Annotations = termination is null ? null : new() { [SimulatedNodeOptions.TerminationAnnotation] = termination },
            },
            Spec = new PodSpec { NodeName = "sim-node-0", TerminationGracePeriodSeconds = 600, Containers = [new Container { Name = "c", Image = "busybox" }] },
        };
        await pods.CreateAsync(NewPod("graceful", "graceful"));
        await pods.CreateAsync(NewPod("prompt", null));
        foreach (var name in new[] { "graceful", "prompt" })
        {
            await EventuallyAsync(async () => (await pods.GetAsync("default", name)).Status?.Phase == "Running" ? "running" : null);
        }

        var deletedAt = DateTimeOffset.UtcNow;
        await pods.DeleteAsync("default", "graceful");
        await pods.DeleteAsync("default", "prompt");
        await EventuallyAsync(async () => (await pods.ListAsync("default")).Items.Any(p => p.Metadata!.Name == "prompt") ? null : "gone");
        var promptTook = DateTimeOffset.UtcNow - deletedAt;
        var graceful = await pods.GetAsync("default", "graceful");
        await host.StopAsync(CancellationToken.None);
        await stopping.CancelAsync();
        await controllers;

        // The wait is bounded by the 60 s of EventuallyAsync; the grace period is ten times that.
        Assert.True(promptTook < TimeSpan.FromSeconds(60), $"took {promptTook}");
        Assert.NotNull(graceful.Metadata!.DeletionTimestamp);
        Assert.True(graceful.Metadata.DeletionTimestamp > DateTimeOffset.UtcNow.AddSeconds(500));
    }

    [Fact]
    public async Task FailNode_NotReady_ReportsReadyFalse()
    {
        await using var server = await TestApiServer.StartAsync();
        using var host = new SimulatedNodeHost(server.Client, new SimulatedNodeOptions { Count = 1 });
        await host.StartAsync(CancellationToken.None);
        await host.Ready.WaitAsync(TimeSpan.FromSeconds(60));

        await host.FailNode("sim-node-0", notReady: true, CancellationToken.None);
        var node = await server.Client.Resource<Node>().GetAsync(null, "sim-node-0");
        await host.StopAsync(CancellationToken.None);

        Assert.Equal("False", node.Status!.Conditions!.Single(c => c.Type == "Ready").Status);
    }

    [Fact]
    public async Task Heartbeats_LeaseWrittenByAnotherClient_KeepRenewing()
    {
        await using var server = await TestApiServer.StartAsync();
        using var host = new SimulatedNodeHost(server.Client, new SimulatedNodeOptions { Count = 2, LeaseRenewInterval = TimeSpan.FromMilliseconds(200), ServePods = false });
        await host.StartAsync(CancellationToken.None);
        await host.Ready.WaitAsync(TimeSpan.FromSeconds(60));
        var leases = server.Client.Resource<Lease>();

        // A write the node did not make leaves its remembered Lease stale: the next renewal must recover.
        var foreign = await EventuallyAsync(async () =>
        {
            var before = await leases.GetAsync("kube-node-lease", "sim-node-1");
            try
            {
                return await leases.UpdateAsync(before with { Spec = before.Spec! with { HolderIdentity = "someone-else" } });
            }
            catch (Kubesharp.ApiMachinery.Errors.StatusException e) when (e.IsConflict())
            {
                return null; // renewed between the read and the write: try again
            }
        });
        var renewed = await EventuallyAsync(async () =>
        {
            var lease = await leases.GetAsync("kube-node-lease", "sim-node-1");
            return lease.Spec?.HolderIdentity == "sim-node-1" && lease.Spec.RenewTime > foreign.Spec!.RenewTime ? lease : null;
        });
        await host.StopAsync(CancellationToken.None);

        Assert.Equal("sim-node-1", renewed.Spec!.HolderIdentity);
    }
}
