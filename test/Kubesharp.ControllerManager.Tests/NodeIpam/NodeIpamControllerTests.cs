using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Tests;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.ControllerManager.Tests.NodeIpam;

/// <summary>The node IPAM controller in the controller manager against a real in-process API server.</summary>
public sealed class NodeIpamControllerTests
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Run_NodesComeAndGoAcrossRestart_AllocatesReleasesAndReportsExhaustion()
    {
        await using var server = await TestApiServer.StartAsync();
        var nodes = server.Client.Resource<Node>();

        // A node that got its range before the controller manager (re)started: that slice stays its own.
        await nodes.CreateAsync(NewNode("old", "10.99.1.0/24"));
        var controllers = Start(server.Client, out var stop);
        var a = await CreateAndWaitForCidrAsync(nodes, "a");
        var b = await CreateAndWaitForCidrAsync(nodes, "b");
        var c = await CreateAndWaitForCidrAsync(nodes, "c");
        Assert.Equal(["10.99.0.0/24", "10.99.2.0/24", "10.99.3.0/24"], new[] { a, b, c }.Order(StringComparer.Ordinal));
        var nodeA = await nodes.GetAsync(null, "a");
        Assert.Equal([a], nodeA.Spec!.PodCIDRs!);

        // The /22 holds four /24s: the fifth node waits, with upstream's event.
        await nodes.CreateAsync(NewNode("d"));
        await WaitForEventAsync(server.Client, "d");
        Assert.Null((await nodes.GetAsync(null, "d")).Spec?.PodCIDR);

        // A deleted node's range goes to the waiting one.
        await nodes.DeleteAsync(null, "a");
        Assert.Equal(a, await WaitForCidrAsync(nodes, "d"));

        // After a restart the allocation is rebuilt from the nodes: still full, and freed again by a deletion.
        await stop.CancelAsync();
        await controllers;
        stop.Dispose();
        controllers = Start(server.Client, out stop);
        await nodes.CreateAsync(NewNode("e"));
        await WaitForEventAsync(server.Client, "e");
        Assert.Null((await nodes.GetAsync(null, "e")).Spec?.PodCIDR);
        await nodes.DeleteAsync(null, "old");
        Assert.Equal("10.99.1.0/24", await WaitForCidrAsync(nodes, "e"));

        await stop.CancelAsync();
        await controllers;
        stop.Dispose();
    }

    private static Task Start(KubernetesClient client, out CancellationTokenSource stop)
    {
        stop = new CancellationTokenSource();
        return ControllerManager.RunAsync(
            client,
            new ControllerManagerOptions { LeaderElect = false, ClusterCidr = "10.99.0.0/22", NodeCidrMaskSize = 24 },
            TimeProvider.System,
            NullLoggerFactory.Instance,
            stop.Token);
    }

    private static Node NewNode(string name, string? podCidr = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Node",
        Metadata = new ObjectMeta { Name = name },
        Spec = podCidr is null ? null : new NodeSpec { PodCIDR = podCidr, PodCIDRs = [podCidr] },
    };

    private static async Task<string> CreateAndWaitForCidrAsync(ResourceClient<Node> nodes, string name)
    {
        await nodes.CreateAsync(NewNode(name));
        return await WaitForCidrAsync(nodes, name);
    }

    private static async Task<string> WaitForCidrAsync(ResourceClient<Node> nodes, string name)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        while (true)
        {
            if ((await nodes.GetAsync(null, name, timeout.Token)).Spec?.PodCIDR is { } cidr)
            {
                return cidr;
            }

            await Task.Delay(50, timeout.Token);
        }
    }

    private static async Task WaitForEventAsync(KubernetesClient client, string node)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        while (true)
        {
            var events = (await client.Resource<Event>().ListAsync("default", cancellationToken: timeout.Token)).Items;
            if (events.FirstOrDefault(e => e.Reason == "CIDRNotAvailable" && e.InvolvedObject?.Name == node) is { } found)
            {
                Assert.Equal("Normal", found.Type);
                Assert.Equal("Node", found.InvolvedObject!.Kind);
                Assert.Equal($"Node {node} status is now: CIDRNotAvailable", found.Message);
                return;
            }

            await Task.Delay(50, timeout.Token);
        }
    }
}
