using System.Text;
using System.Text.RegularExpressions;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Cri;
using Kubesharp.Kubelet.Devices;
using Kubesharp.Kubelet.Devices.PodResources.V1;
using Kubesharp.Kubelet.Pods;
using Kubesharp.Kubelet.Tests.EndToEnd;
using Kubesharp.Kubelet.Tests.Support;
using Kubesharp.Scheduler;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.Devices;

/// <summary>
/// A device plugin written here registers with a real node agent; pods get whole devices (env, device nodes, mounts
/// and annotations inside real containers), the scheduler counts them, health and agent restarts are handled.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed partial class DevicePluginEndToEndTests(NodeFixture fixture)
{
    private const string Ns = "default";
    private const string Resource = "kubesharp.test/fakedev";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(2);

    [DevicePluginFact]
    public async Task DevicePlugin_RegisterAllocateUnhealthyRestart_AsUpstream()
    {
        Assert.Null(fixture.SkipReason);
        Assert.True(Kubectl.Available, "kubectl is not on PATH");
        await using var plugin = new TestDevicePlugin(Resource, fixture.Options.ResolvedDevicePluginsDir, Path.Combine(fixture.Root, "fakedevs"), 3);
        await plugin.StartAsync(CancellationToken.None);
        using var scheduler = new SchedulerService(fixture.Client, new SchedulerOptions(), timeProvider: TimeProvider.System);
        await scheduler.StartAsync(CancellationToken.None);
        var pods = fixture.Client.Resource<Pod>();
        try
        {
            // Registered: the node shows the three devices.
            await WaitNodeAsync(n => Count(n.Status?.Capacity, Resource) == 3 && Count(n.Status?.Allocatable, Resource) == 3);

            // A pod asking for 2 gets two distinct devices: env, device nodes, the mount and the annotation reach the container.
            await pods.CreateAsync(DevicePod("gpu-a", 2));
            var a = await WaitPodAsync("gpu-a", p => p.Status?.Phase == "Running");
            var containerId = PodSyncer.StripScheme(a.Status!.ContainerStatuses![0].ContainerID!);
            var seen = await ExecAsync(containerId, "echo ids=$FAKEDEV_IDS; for d in /dev/fakedev-*; do [ -c $d ] && echo dev=$d; done; cat /fakedev-info/driver; echo probe > /dev/fakedev-2 && echo writable");
            // The plugin prefers the highest-numbered devices; the agent takes its preference.
            Assert.Contains("ids=fakedev-1,fakedev-2\n", seen, StringComparison.Ordinal);
            Assert.Contains("dev=/dev/fakedev-1\ndev=/dev/fakedev-2\n", seen, StringComparison.Ordinal);
            Assert.DoesNotContain("dev=/dev/fakedev-0", seen, StringComparison.Ordinal);
            Assert.Contains("fake-driver-1.0\nwritable", seen, StringComparison.Ordinal);
            var criContainer = (await fixture.Agent.Runtime!.Runtime.ContainerStatusAsync(containerId)).Status;
            Assert.Equal("fakedev-1,fakedev-2", criContainer.Annotations["kubesharp.test/fakedev-ids"]);
            Assert.Contains("GetPreferredAllocation:fakedev-0,fakedev-1,fakedev-2", plugin.Calls);
            Assert.Contains("Allocate:fakedev-1,fakedev-2", plugin.Calls);
            Assert.Contains("PreStartContainer:fakedev-1,fakedev-2", plugin.Calls);

            // kubectl describe node shows the devices: capacity, allocatable and what the pods hold.
            var kubectl = new Kubectl(fixture.Server.KubeconfigPath, Path.Combine(fixture.Root, "kubectl-cache"));
            var described = (await kubectl.RunAsync(["describe", "node", fixture.NodeName])).Stdout;
            Assert.Matches(@"Capacity:(\n .*)*\n  kubesharp\.test/fakedev:\s+3\n", described);
            Assert.Matches(@"Allocatable:(\n .*)*\n  kubesharp\.test/fakedev:\s+3\n", described);
            Assert.Matches(@"Allocated resources:(\n.*)*\n  kubesharp\.test/fakedev\s+2\s+2\n", described);

            // A second pod asking for 2 of the 1 left is not scheduled, with upstream's message.
            await pods.CreateAsync(DevicePod("gpu-b", 2));
            var unschedulable = await WaitPodAsync("gpu-b", p => p.Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Status == "False") == true);
            var nodes = (await fixture.Client.Resource<Node>().ListAsync(null)).Items.Count;
            Assert.Equal("Pending", unschedulable.Status!.Phase);
            Assert.Equal(
                $"0/{nodes} nodes are available: {nodes} Insufficient {Resource}. preemption: 0/{nodes} nodes are available: {nodes} No preemption victims found for incoming pod.",
                unschedulable.Status.Conditions!.Single(c => c.Type == "PodScheduled").Message);

            // The pod resources API maps the devices to the pod.
            var listed = await ListPodResourcesAsync();
            var held = listed.PodResources.Single(p => p.Name == "gpu-a").Containers.Single().Devices.Single();
            Assert.Equal(Resource, held.ResourceName);
            Assert.Equal(["fakedev-1", "fakedev-2"], held.DeviceIds.Order(StringComparer.Ordinal));
            Assert.DoesNotContain(listed.PodResources, p => p.Name == "gpu-b");

            // The free device turns unhealthy: it stays in capacity and leaves allocatable.
            plugin.SetHealthy("fakedev-0", false);
            await WaitNodeAsync(n => Count(n.Status?.Capacity, Resource) == 3 && Count(n.Status?.Allocatable, Resource) == 2);
            Assert.Equal(["fakedev-1", "fakedev-2"], (await AllocatableAsync()).Order(StringComparer.Ordinal));

            // The agent restarts: the plugin registers again, the running pod keeps its container and its devices.
            var registrations = plugin.Registrations;
            await fixture.StopAgentAsync();
            await fixture.StartAgentAsync();
            await WaitAsync(() => Task.FromResult(plugin.Registrations > registrations), "the plugin to register again");
            await WaitNodeAsync(n => Count(n.Status?.Capacity, Resource) == 3 && Count(n.Status?.Allocatable, Resource) == 2);
            var after = await WaitPodAsync("gpu-a", p => p.Status?.Phase == "Running");
            Assert.Equal(containerId, PodSyncer.StripScheme(after.Status!.ContainerStatuses![0].ContainerID!));
            Assert.Equal(0, after.Status.ContainerStatuses[0].RestartCount);
            Assert.Contains("ids=fakedev-1,fakedev-2\n", await ExecAsync(containerId, "echo ids=$FAKEDEV_IDS"), StringComparison.Ordinal);
            var relisted = (await ListPodResourcesAsync()).PodResources.Single(p => p.Name == "gpu-a").Containers.Single().Devices.Single();
            Assert.Equal(["fakedev-1", "fakedev-2"], relisted.DeviceIds.Order(StringComparer.Ordinal));

            // Devices of finished pods are freed: with gpu-a gone, gpu-b gets them (fakedev-0 is still unhealthy).
            await pods.DeleteAsync(Ns, "gpu-a", new DeleteOptions { GracePeriodSeconds = 0 });
            var b = await WaitPodAsync("gpu-b", p => p.Status?.Phase == "Running", TimeSpan.FromMinutes(3));
            var bSeen = await ExecAsync(PodSyncer.StripScheme(b.Status!.ContainerStatuses![0].ContainerID!), "echo ids=$FAKEDEV_IDS");
            Assert.Contains("ids=fakedev-1,fakedev-2\n", bSeen, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var name in new[] { "gpu-a", "gpu-b" })
            {
                try
                {
                    await pods.DeleteAsync(Ns, name, new DeleteOptions { GracePeriodSeconds = 0 });
                }
                catch (StatusException e) when (e.IsNotFound())
                {
                }
            }

            await scheduler.StopAsync(CancellationToken.None);
        }
    }

    private static long Count(Dictionary<string, Quantity>? resources, string name) =>
        resources is not null && resources.TryGetValue(name, out var quantity) ? quantity.Value() : -1;

    private static Pod DevicePod(string name, int devices) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new ObjectMeta { Name = name, Namespace = Ns },
        Spec = new PodSpec
        {
            TerminationGracePeriodSeconds = 0,
            // No node lifecycle controller runs here to lift the not-ready taint new nodes are registered with.
            Tolerations = [new Toleration { Key = "node.kubernetes.io/not-ready", Operator = "Exists", Effect = "NoSchedule" }],
            Containers =
            [
                new Container
                {
                    Name = "app",
                    Image = NodeFixture.BusyboxImage,
                    ImagePullPolicy = "Never",
                    Command = ["sh", "-c", "exec sleep 3600"],
                    Resources = new ResourceRequirements
                    {
                        Requests = new() { [Resource] = new Quantity(devices) },
                        Limits = new() { [Resource] = new Quantity(devices) },
                    },
                },
            ],
        },
    };

    private async Task<string> ExecAsync(string containerId, string script)
    {
        var result = await fixture.Agent.Runtime!.Runtime.ExecSyncAsync(containerId, ["sh", "-c", script], TimeSpan.FromSeconds(30));
        return Encoding.UTF8.GetString(result.Stdout.Span) + Encoding.UTF8.GetString(result.Stderr.Span);
    }

    private async Task<ListPodResourcesResponse> ListPodResourcesAsync()
    {
        using var channel = UnixSocketChannel.Create(fixture.Options.ResolvedPodResourcesSocket);
        return await new PodResourcesLister.PodResourcesListerClient(channel).ListAsync(new ListPodResourcesRequest());
    }

    private async Task<List<string>> AllocatableAsync()
    {
        using var channel = UnixSocketChannel.Create(fixture.Options.ResolvedPodResourcesSocket);
        var response = await new PodResourcesLister.PodResourcesListerClient(channel).GetAllocatableResourcesAsync(new AllocatableResourcesRequest());
        return [.. response.Devices.Where(d => d.ResourceName == Resource).SelectMany(d => d.DeviceIds)];
    }

    private async Task<Node> WaitNodeAsync(Func<Node, bool> predicate)
    {
        Node? last = null;
        await WaitAsync(async () => predicate(last = await fixture.Client.Resource<Node>().GetAsync(null, fixture.NodeName)), "the node's devices");
        return last!;
    }

    private async Task<Pod> WaitPodAsync(string name, Func<Pod, bool> predicate, TimeSpan? limit = null)
    {
        Pod? last = null;
        await WaitAsync(async () => predicate(last = await fixture.Client.Resource<Pod>().GetAsync(Ns, name)), "pod " + name, limit);
        return last!;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? WaitLimit);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("timed out waiting for " + what);
            }

            await Task.Delay(250);
        }
    }
}
