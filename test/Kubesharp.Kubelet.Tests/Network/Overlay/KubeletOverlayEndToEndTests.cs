using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.Client.Tests;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Kubelet.Network.Overlay;
using Kubesharp.Kubelet.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Tests.Network.Overlay;

/// <summary>
/// The kubelet with its own containerd and a VXLAN overlay whose kernel side lives in a node namespace of the test
/// (its address exists only there): the overlay is set up before the CNI config, which takes its MTU and leaves
/// masquerading to it, the Node carries the device's MAC, and stopping the kubelet removes the device and record.
/// </summary>
public sealed class KubeletOverlayEndToEndTests
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(2);

    [RuntimeFact]
    public async Task KubeletService_VxlanOverlay_CniConfigTakesItsMtuNodeCarriesMacAndStopRemovesIt()
    {
        Assert.Null(NetworkNamespaceFactAttribute.SkipReason());
        await using var testbed = new TwoNodeTestbed();
        await testbed.CreateAsync(1450);
        await using var api = await TestApiServer.StartAsync();
        var root = Directory.CreateTempSubdirectory("ksok-").FullName;
        var bridge = "ksok" + testbed.Id;
        var network = "ksok-test-" + testbed.Id;
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(new FileLoggerProvider(Path.Combine(Path.GetTempPath(), "kubesharp-overlay-e2e.log"))));
        var options = new KubeletOptions
        {
            NodeName = testbed.Node1.Name,
            DataDir = Path.Combine(root, "a"),
            PodCidr = testbed.Node1.PodCidr,
            BridgeName = bridge,
            NetworkName = network,
            NodeIp = testbed.Node1.Address,
            KubeletPort = 0,
            Overlay = new OverlayOptions { ClusterCidr = TwoNodeTestbed.ClusterCidr, CommandPrefix = testbed.Node1.CommandPrefix },
        };
        var agent = new KubeletService(options, api.Client, loggerFactory) { ClientCaPem = api.Host.Certificates.CaPem };
        try
        {
            await agent.StartAsync(CancellationToken.None);
            await agent.Ready.WaitAsync(WaitLimit);

            var conflist = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(agent.Runtime!.Supervisor!.Layout.CniConfDir, $"10-{network}.conflist")))!;
            var bridgePlugin = conflist["plugins"]![0]!;
            Assert.Equal(1500 - OverlayOptions.VxlanOverhead, (int)bridgePlugin["mtu"]!);
            Assert.False((bool)bridgePlugin["ipMasq"]!);
            Assert.True(File.Exists(OverlayRecord.PathIn(options.DataDir)));

            var device = await TwoNodeTestbed.RunAsync([.. testbed.Node1.CommandPrefix, "ip", "-o", "link", "show", "dev", OverlayOptions.DefaultDeviceName]);
            var deadline = System.Diagnostics.Stopwatch.StartNew();
            string? published;
            while ((published = (await api.Client.Resource<Node>().GetAsync(null, testbed.Node1.Name)).Metadata?.Annotations?.GetValueOrDefault(OverlayOptions.BackendDataAnnotation)) is null)
            {
                Assert.True(deadline.Elapsed < WaitLimit, "the node's VXLAN MAC was not published");
                await Task.Delay(100);
            }

            var mac = (string)JsonNode.Parse(published)!["VtepMAC"]!;
            Assert.Contains($"link/ether {mac} ", device, StringComparison.Ordinal);

            await agent.StopAsync(CancellationToken.None);
            Assert.NotEqual(0, (await Kubesharp.Kubelet.Runtime.ExternalCommand.RunAsync("ip", ["-n", testbed.Node1.Namespace, "link", "show", "dev", OverlayOptions.DefaultDeviceName], CancellationToken.None)).ExitCode);
            Assert.DoesNotContain(OverlayOptions.DefaultChainPrefix, await TwoNodeTestbed.RunAsync([.. testbed.Node1.CommandPrefix, "iptables-save"]), StringComparison.Ordinal);
            Assert.False(File.Exists(OverlayRecord.PathIn(options.DataDir)));
        }
        finally
        {
            await agent.StopAsync(CancellationToken.None);
            agent.Dispose();
            await HostCleanup.RemoveNodeAsync(root, network, bridge);
        }
    }
}
