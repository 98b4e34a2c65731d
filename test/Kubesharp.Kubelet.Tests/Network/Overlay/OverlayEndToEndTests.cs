using System.Diagnostics;
using System.Text.Json;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Tests;
using Kubesharp.E2ETests.Support;
using Kubesharp.Kubelet.Network.Overlay;
using Kubesharp.Kubelet.Nodes;
using Kubesharp.Kubelet.Runtime;
using Kubesharp.Kubelet.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Kubelet.Tests.Network.Overlay;

/// <summary>
/// The overlay between two nodes held in network namespaces: each node's <see cref="OverlayController"/> runs
/// against a real API server with its kernel commands inside its node's namespace, publishes its annotations and
/// programs the other node from its Node object; a pod on node 1 then reaches a pod on node 2 by its pod IP.
/// </summary>
public sealed class OverlayEndToEndTests
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    [NetworkNamespaceFact]
    public Task OverlayController_VxlanBetweenTwoNodes_PodReachesPodOnOtherNodeWithItsOwnAddress() =>
        PodReachesPodOnOtherNodeAsync(OverlayBackend.Vxlan, 1500 - OverlayOptions.VxlanOverhead);

    [NetworkNamespaceFact]
    public Task OverlayController_HostGwBetweenTwoNodes_PodReachesPodOnOtherNodeWithItsOwnAddress() =>
        PodReachesPodOnOtherNodeAsync(OverlayBackend.HostGw, 1500);

    [NetworkNamespaceFact]
    public async Task OverlayController_VxlanPeerNodeDeletedThenAgentStops_EntriesAndDeviceRemoved()
    {
        Assert.Null(NetworkNamespaceFactAttribute.SkipReason());
        await using var testbed = new TwoNodeTestbed();
        await using var api = await TestApiServer.StartAsync();
        await testbed.CreateAsync(1450);
        await using var node1 = await StartNodeAsync(api.Client, testbed.Node1, OverlayBackend.Vxlan);
        await using var node2 = await StartNodeAsync(api.Client, testbed.Node2, OverlayBackend.Vxlan);
        await testbed.WaitForServerAsync(WaitLimit);
        Assert.NotNull(await testbed.WaitForPodToPodAsync(WaitLimit));
        Assert.NotEmpty(await OverlayEntriesAsync(testbed.Node1));

        // The node goes: node 1 forgets how to reach its pods.
        await api.Client.Resource<Node>().DeleteAsync(null, testbed.Node2.Name);
        await WaitUntilAsync(async () => (await OverlayEntriesAsync(testbed.Node1)).Count == 0, "node 1 still has entries for the deleted node");
        Assert.Null(await testbed.ConnectPodToPodAsync());

        // The agent stops: its device, routes and rules go.
        await node1.DisposeAsync();
        Assert.False(await DeviceExistsAsync(testbed.Node1), "the VXLAN device is still there");
        var rules = await TwoNodeTestbed.RunAsync([.. testbed.Node1.CommandPrefix, "iptables-save"]);
        Assert.DoesNotContain(OverlayOptions.DefaultChainPrefix, rules, StringComparison.Ordinal);
        Assert.True(await DeviceExistsAsync(testbed.Node2), "the other node's device went too");
    }

    [NetworkNamespaceFact]
    public async Task SetUpAsync_InThisProcesssOwnNamespace_LinkAndMacAsTheKernelHasThem()
    {
        // A node's own namespace (no command prefix), as every real node runs: the link holding the node's address and
        // the device's MAC are read by the process itself. A veth link of its own stands in for the node's.
        Assert.Null(NetworkNamespaceFactAttribute.SkipReason());
        var suffix = Random.Shared.Next(0x1000, 0x10000).ToString("x4", System.Globalization.CultureInfo.InvariantCulture);
        var link = $"kstl{suffix}";
        var address = System.Net.IPAddress.Parse($"198.51.100.{Random.Shared.Next(2, 250)}");
        var overlay = new OverlayNetwork(new OverlayOptions
        {
            ClusterCidr = "10.251.0.0/16",
            DeviceName = $"kstv{suffix}",
            ChainPrefix = $"KSTOV{suffix.ToUpperInvariant()}",
            Vni = Random.Shared.Next(1000, 60000),
        });
        await TwoNodeTestbed.RunAsync("ip", "link", "add", link, "mtu", "1400", "type", "veth", "peer", "name", $"kstp{suffix}", "mtu", "1400");
        try
        {
            await TwoNodeTestbed.RunAsync("ip", "addr", "add", $"{address}/32", "dev", link);
            await TwoNodeTestbed.RunAsync("ip", "link", "set", link, "up");

            var set = await overlay.SetUpAsync(address, "10.251.7.0/24", CancellationToken.None);

            Assert.Equal(1400 - OverlayOptions.VxlanOverhead, set.Mtu);
            Assert.Equal(set.Mtu, overlay.ExpectedLink(address)?.Mtu);
            var device = await TwoNodeTestbed.RunAsync("ip", "-d", "link", "show", "dev", overlay.Options.DeviceName);
            Assert.Contains($"link/ether {set.VtepMac} ", device, StringComparison.Ordinal);
            Assert.Contains($"local {address} dev {link} ", device, StringComparison.Ordinal);

            // A second start finds the hooks' jumps in place and adds none.
            await overlay.SetUpAsync(address, "10.251.7.0/24", CancellationToken.None);
            var saved = await TwoNodeTestbed.RunAsync("iptables-save");
            Assert.Single(saved.Split('\n'), l => l.StartsWith("-A POSTROUTING ", StringComparison.Ordinal) && l.EndsWith($"-j {overlay.Options.MasqueradeChain}", StringComparison.Ordinal));
            Assert.Single(saved.Split('\n'), l => l.StartsWith("-A FORWARD ", StringComparison.Ordinal) && l.EndsWith($"-j {overlay.Options.ForwardChain}", StringComparison.Ordinal));
        }
        finally
        {
            await overlay.TearDownAsync(CancellationToken.None);
            await ExternalCommand.RunAsync("ip", ["link", "del", link], CancellationToken.None);
        }
    }

    [NetworkNamespaceFact]
    public async Task SetUpAsync_DeviceLeftByAnEarlierStart_KeepsItOrRebuildsItWithOnlyTheNewAddress()
    {
        Assert.Null(NetworkNamespaceFactAttribute.SkipReason());
        await using var testbed = new TwoNodeTestbed();
        await testbed.CreateAsync(1450);
        var nodeIp = System.Net.IPAddress.Parse(testbed.Node1.Address);
        var options = new OverlayOptions { ClusterCidr = TwoNodeTestbed.ClusterCidr, CommandPrefix = testbed.Node1.CommandPrefix };
        var first = await new OverlayNetwork(options).SetUpAsync(nodeIp, testbed.Node1.PodCidr, CancellationToken.None);

        // The same device kept, its old address replaced by the new range's.
        var kept = await new OverlayNetwork(options).SetUpAsync(nodeIp, testbed.Node2.PodCidr, CancellationToken.None);
        Assert.Equal(first.VtepMac, kept.VtepMac);
        Assert.Equal([testbed.Node2.PodCidr.Split('/')[0] + "/32"], await DeviceAddressesAsync(testbed.Node1));

        // Another VNI: the device is built again, up, with the right MTU and the one address.
        var rebuilt = await new OverlayNetwork(options with { Vni = options.Vni + 1 }).SetUpAsync(nodeIp, testbed.Node1.PodCidr, CancellationToken.None);
        Assert.Equal(first.Mtu, rebuilt.Mtu);
        Assert.Equal([testbed.Node1.PodCidr.Split('/')[0] + "/32"], await DeviceAddressesAsync(testbed.Node1));
        var device = await TwoNodeTestbed.RunAsync([.. testbed.Node1.CommandPrefix, "ip", "-d", "link", "show", "dev", OverlayOptions.DefaultDeviceName]);
        Assert.Contains($"vxlan id {options.Vni + 1} ", device, StringComparison.Ordinal);
        Assert.Contains(",UP,", device, StringComparison.Ordinal);
        Assert.Contains($" mtu {first.Mtu} ", device, StringComparison.Ordinal);
        await new OverlayNetwork(options).TearDownAsync(CancellationToken.None);
    }

    [NetworkNamespaceFact]
    public async Task SetUpAsync_PodCidrNotAssignedYet_RulesInPlaceMeanwhileAndTheDeviceTakesTheRangeOnceKnown()
    {
        Assert.Null(NetworkNamespaceFactAttribute.SkipReason());
        await using var testbed = new TwoNodeTestbed();
        await testbed.CreateAsync(1450);
        var options = new OverlayOptions { ClusterCidr = TwoNodeTestbed.ClusterCidr, CommandPrefix = testbed.Node1.CommandPrefix };
        var network = new OverlayNetwork(options);
        var podCidr = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var setUp = network.SetUpAsync(System.Net.IPAddress.Parse(testbed.Node1.Address), podCidr.Task, CancellationToken.None);

        // Before the node has a range: the rules are written, the device waits for its address.
        await WaitUntilAsync(
            async () => (await TwoNodeTestbed.RunAsync([.. testbed.Node1.CommandPrefix, "iptables-save"])).Contains(OverlayOptions.DefaultChainPrefix, StringComparison.Ordinal),
            "the overlay's rules were not written while the pod CIDR was unknown");
        Assert.False(setUp.IsCompleted);

        podCidr.SetResult(testbed.Node1.PodCidr);
        var link = await setUp.WaitAsync(WaitLimit);
        Assert.NotNull(link.VtepMac);
        Assert.Equal([testbed.Node1.PodCidr.Split('/')[0] + "/32"], await DeviceAddressesAsync(testbed.Node1));
        await network.TearDownAsync(CancellationToken.None);
    }

    [NetworkNamespaceFact]
    public async Task Killall_OverlayRecordedInDataDirectory_DeviceRoutesAndChainsRemoved()
    {
        Assert.Null(NetworkNamespaceFactAttribute.SkipReason());
        await using var testbed = new TwoNodeTestbed();
        await testbed.CreateAsync(1450);
        var dataDir = Directory.CreateTempSubdirectory("ksov-").FullName;
        try
        {
            // What an agent that was killed leaves: its overlay programmed and recorded, nothing removed.
            var options = new OverlayOptions { ClusterCidr = TwoNodeTestbed.ClusterCidr, CommandPrefix = testbed.Node1.CommandPrefix };
            OverlayRecord.Write(dataDir, options);
            var network = new OverlayNetwork(options);
            await network.SetUpAsync(System.Net.IPAddress.Parse(testbed.Node1.Address), testbed.Node1.PodCidr, CancellationToken.None);
            await network.SyncPeersAsync([new OverlayPeer(testbed.Node2.Name, System.Net.IPAddress.Parse(testbed.Node2.Address), testbed.Node2.PodCidr, "02:00:00:00:00:02")], CancellationToken.None);
            Assert.NotEmpty(await OverlayEntriesAsync(testbed.Node1));

            // The real executable, inside the node's namespace (so it sees that node's links and rules only).
            var (exitCode, stdout, stderr) = await Kubesharp.Kubelet.Runtime.ExternalCommand.RunAsync(
                "ip", [.. testbed.Node1.CommandPrefix.Skip(1), .. KubesharpExecutable.Command("killall", "--data-dir", dataDir)], CancellationToken.None);

            Assert.True(exitCode == 0, stdout + stderr);
            Assert.Contains(OverlayOptions.DefaultDeviceName, stdout, StringComparison.Ordinal);
            Assert.False(await DeviceExistsAsync(testbed.Node1), "the VXLAN device is still there");
            Assert.Empty(await TwoNodeTestbed.RunAsync([.. testbed.Node1.CommandPrefix, "ip", "route", "show", "proto", OverlayOptions.RouteProtocol.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
            Assert.DoesNotContain(OverlayOptions.DefaultChainPrefix, await TwoNodeTestbed.RunAsync([.. testbed.Node1.CommandPrefix, "iptables-save"]), StringComparison.Ordinal);
            Assert.False(File.Exists(OverlayRecord.PathIn(dataDir)));
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static async Task PodReachesPodOnOtherNodeAsync(OverlayBackend backend, int expectedMtu)
    {
        Assert.Null(NetworkNamespaceFactAttribute.SkipReason());
        await using var testbed = new TwoNodeTestbed();
        await using var api = await TestApiServer.StartAsync();
        await testbed.CreateAsync(expectedMtu);
        await testbed.WaitForServerAsync(WaitLimit);

        // Without the overlay, the pod ranges do not reach each other.
        Assert.Null(await testbed.ConnectPodToPodAsync());

        await using var node1 = await StartNodeAsync(api.Client, testbed.Node1, backend);
        await using var node2 = await StartNodeAsync(api.Client, testbed.Node2, backend);
        Assert.Equal(expectedMtu, node1.Link.Mtu);
        // Read from this process's interfaces: in its own namespace, where the kubelet's overlay runs, the same MTU; for
        // commands run in another namespace, none.
        Assert.Null(node1.Controller.Network.ExpectedLink(System.Net.IPAddress.Parse(testbed.Node1.Address)));
        var here = new OverlayNetwork(new OverlayOptions { Backend = backend, ClusterCidr = TwoNodeTestbed.ClusterCidr });
        Assert.Equal(
            await ExpectedPodMtuAsync(backend, MachineInfo.DefaultNodeIp()),
            here.ExpectedLink(System.Net.IPAddress.Parse(MachineInfo.DefaultNodeIp()))?.Mtu);

        // Pod-to-pod keeps its source: only traffic leaving the cluster CIDR is masqueraded.
        Assert.Equal(testbed.Node1.PodIp, await testbed.WaitForPodToPodAsync(WaitLimit));

        var published = await api.Client.Resource<Node>().GetAsync(null, testbed.Node2.Name);
        Assert.Equal(OverlayBackends.Name(backend), published.Metadata!.Annotations![OverlayOptions.BackendTypeAnnotation]);
        Assert.Equal(testbed.Node2.Address, published.Metadata.Annotations[OverlayOptions.PublicIpAnnotation]);
        if (backend == OverlayBackend.Vxlan)
        {
            using var data = JsonDocument.Parse(published.Metadata.Annotations[OverlayOptions.BackendDataAnnotation]);
            Assert.Equal(node2.Link.VtepMac, data.RootElement.GetProperty("VtepMAC").GetString());
            var fdb = await TwoNodeTestbed.RunAsync([.. testbed.Node1.CommandPrefix, "bridge", "fdb", "show", "dev", OverlayOptions.DefaultDeviceName]);
            Assert.Contains($"{node2.Link.VtepMac} dst {testbed.Node2.Address}", fdb, StringComparison.Ordinal);
        }
    }

    /// <summary>The pods' MTU for the link holding <paramref name="address"/>, as iproute2 reports that link.</summary>
    private static async Task<int?> ExpectedPodMtuAsync(OverlayBackend backend, string address)
    {
        using var links = JsonDocument.Parse(await TwoNodeTestbed.RunAsync(["ip", "-j", "addr", "show"]));
        foreach (var link in links.RootElement.EnumerateArray())
        {
            if (link.GetProperty("addr_info").EnumerateArray().Any(a => a.TryGetProperty("local", out var local) && local.GetString() == address))
            {
                var mtu = link.GetProperty("mtu").GetInt32();
                return backend == OverlayBackend.Vxlan ? mtu - OverlayOptions.VxlanOverhead : mtu;
            }
        }

        return null;
    }

    private static async Task<RunningNode> StartNodeAsync(KubernetesClient client, TwoNodeTestbed.TestNode node, OverlayBackend backend)
    {
        await client.Resource<Node>().CreateAsync(new Node
        {
            Metadata = new ObjectMeta { Name = node.Name },
            Spec = new NodeSpec { PodCIDR = node.PodCidr, PodCIDRs = [node.PodCidr] },
        });
        var options = new OverlayOptions { Backend = backend, ClusterCidr = TwoNodeTestbed.ClusterCidr, CommandPrefix = node.CommandPrefix };
        var controller = new OverlayController(client, node.Name, new OverlayNetwork(options), TimeProvider.System, NullLogger.Instance);
        var link = await controller.SetUpAsync(System.Net.IPAddress.Parse(node.Address), node.PodCidr, CancellationToken.None);
        var stopping = new CancellationTokenSource();
        return new RunningNode(controller, link, controller.RunAsync(stopping.Token), stopping);
    }

    /// <summary>Routes the overlay added (its protocol marks them) and, under VXLAN, neighbours on its device.</summary>
    private static async Task<IReadOnlyList<string>> OverlayEntriesAsync(TwoNodeTestbed.TestNode node)
    {
        var routes = await TwoNodeTestbed.RunAsync([.. node.CommandPrefix, "ip", "route", "show", "proto", OverlayOptions.RouteProtocol.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var neighbours = await TwoNodeTestbed.RunAsync([.. node.CommandPrefix, "ip", "neigh", "show", "dev", OverlayOptions.DefaultDeviceName]);
        return [.. (routes + neighbours).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    private static async Task<IReadOnlyList<string>> DeviceAddressesAsync(TwoNodeTestbed.TestNode node) =>
        [.. (await TwoNodeTestbed.RunAsync([.. node.CommandPrefix, "ip", "-4", "-o", "addr", "show", "dev", OverlayOptions.DefaultDeviceName]))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3])];

    private static async Task<bool> DeviceExistsAsync(TwoNodeTestbed.TestNode node) =>
        (await Kubesharp.Kubelet.Runtime.ExternalCommand.RunAsync("ip", ["-n", node.Namespace, "link", "show", "dev", OverlayOptions.DefaultDeviceName], CancellationToken.None)).ExitCode == 0;

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string message)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < WaitLimit, message);
            await Task.Delay(100);
        }
    }

    /// <summary>One node's running overlay; disposing stops it, which removes what it programmed.</summary>
    private sealed class RunningNode(OverlayController controller, OverlayLink link, Task run, CancellationTokenSource stopping) : IAsyncDisposable
    {
        private bool disposed;

        public OverlayController Controller { get; } = controller;

        public OverlayLink Link { get; } = link;

        public async ValueTask DisposeAsync()
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            await stopping.CancelAsync();
            try
            {
                await run;
            }
            catch (OperationCanceledException)
            {
            }

            stopping.Dispose();
        }
    }
}
