using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Tests;
using Kubesharp.Commands;
using Kubesharp.Kubelet.Simulation;
using Kubesharp.Scheduler;

namespace Kubesharp.Kubelet.Tests.Simulation;

/// <summary><c>--simulated-node-extended-resources nvidia.com/gpu=8</c>: simulated nodes advertise GPUs the scheduler counts.</summary>
public sealed class SimulatedExtendedResourcesTests
{
    [Theory]
    [InlineData("kubernetes.io/gpu=1")]
    [InlineData("gpu=1")]
    [InlineData("nvidia.com/gpu=1.5")]
    [InlineData("nvidia.com/gpu=lots")]
    [InlineData("nvidia.com/gpu")]
    public void ParseFlag_Invalid_Rejected(string value)
    {
        Assert.False(ServerCommand.TryParseExtendedResources([value], out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public async Task Flag_Gpus_NodesAdvertiseThemAndTheSchedulerCountsThem()
    {
        Assert.True(ServerCommand.TryParseExtendedResources(["nvidia.com/gpu=8,example.com/fpga=2"], out var resources, out _));
        await using var server = await TestApiServer.StartAsync();
        using var host = new SimulatedNodeHost(server.Client, new SimulatedNodeOptions { Count = 2, Taint = false, ExtendedResources = resources });
        await host.StartAsync(CancellationToken.None);
        await host.Ready.WaitAsync(TimeSpan.FromSeconds(60));
        using var scheduler = new SchedulerService(server.Client, new SchedulerOptions(), timeProvider: TimeProvider.System);
        await scheduler.StartAsync(CancellationToken.None);
        try
        {
            var node = await server.Client.Resource<Node>().GetAsync(null, "sim-node-0");
            Assert.Equal(new Quantity(8), node.Status!.Capacity!["nvidia.com/gpu"]);
            Assert.Equal(new Quantity(8), node.Status.Allocatable!["nvidia.com/gpu"]);
            Assert.Equal(new Quantity(2), node.Status.Allocatable["example.com/fpga"]);

            var pods = server.Client.Resource<Pod>();
            await pods.CreateAsync(GpuPod("fits", 8));
            await pods.CreateAsync(GpuPod("too-big", 9));

            var bound = await EventuallyAsync(async () => await pods.GetAsync("default", "fits") is { Spec.NodeName: { Length: > 0 } } p ? p : null);
            var pending = await EventuallyAsync(async () =>
                (await pods.GetAsync("default", "too-big")).Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled" && c.Status == "False"));
            Assert.StartsWith("sim-node-", bound.Spec!.NodeName, StringComparison.Ordinal);
            Assert.Equal("Unschedulable", pending.Reason);
            Assert.Equal(
                "0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
                pending.Message);
        }
        finally
        {
            await scheduler.StopAsync(CancellationToken.None);
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static Pod GpuPod(string name, int gpus) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = "default" },
        Spec = new PodSpec
        {
            // No node lifecycle controller runs here to lift the not-ready taint new nodes are registered with.
            Tolerations = [new Toleration { Key = "node.kubernetes.io/not-ready", Operator = "Exists", Effect = "NoSchedule" }],
            Containers =
            [
                new Container
                {
                    Name = "c",
                    Image = "busybox",
                    Resources = new ResourceRequirements
                    {
                        Requests = new() { ["nvidia.com/gpu"] = new Quantity(gpus) },
                        Limits = new() { ["nvidia.com/gpu"] = new Quantity(gpus) },
                    },
                },
            ],
        },
    };

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
}
