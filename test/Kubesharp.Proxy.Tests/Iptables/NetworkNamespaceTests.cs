using System.Diagnostics;
using Kubesharp.Proxy.Iptables;

namespace Kubesharp.Proxy.Tests.Iptables;

/// <summary>
/// Real kernel rules: a client netns holding the proxy's rules, joined by a veth pair to an endpoint netns
/// running a small TCP server. Proves a ClusterIP connection is DNATed to the endpoint and that cleanup
/// removes the path again. Needs root (as CI runs).
/// </summary>
public sealed class NetworkNamespaceTests : IAsyncLifetime
{
    private const string ServerScript =
        "import socket\n" +
        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 8080)); s.listen(16)\n" +
        "while True:\n" +
        "    c,_=s.accept(); c.sendall(b'endpoint-ok\\n'); c.close()\n";

    private const string ClientScript =
        "import socket,sys\n" +
        "try:\n" +
        "    c=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])); print(c.recv(100).decode().strip())\n" +
        "except Exception as e:\n" +
        "    print('failed', type(e).__name__); sys.exit(1)\n";

    private readonly string id = Guid.NewGuid().ToString("N")[..6];
    private Process? server;

    private string ClientNs => $"ksp-c-{id}";

    private string EndpointNs => $"ksp-e-{id}";

    public async Task InitializeAsync()
    {
        await Run("ip", "netns", "add", ClientNs);
        await Run("ip", "netns", "add", EndpointNs);
        await Run("ip", "link", "add", $"kspc{id}", "type", "veth", "peer", "name", $"kspe{id}");
        await Run("ip", "link", "set", $"kspc{id}", "netns", ClientNs);
        await Run("ip", "link", "set", $"kspe{id}", "netns", EndpointNs);
        await Run("ip", "-n", ClientNs, "addr", "add", "10.250.0.1/24", "dev", $"kspc{id}");
        await Run("ip", "-n", EndpointNs, "addr", "add", "10.250.0.2/24", "dev", $"kspe{id}");
        foreach (var (ns, dev) in new[] { (ClientNs, $"kspc{id}"), (EndpointNs, $"kspe{id}") })
        {
            await Run("ip", "-n", ns, "link", "set", "lo", "up");
            await Run("ip", "-n", ns, "link", "set", dev, "up");
        }

        await Run("ip", "-n", ClientNs, "route", "add", "default", "via", "10.250.0.2");
        var start = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", EndpointNs, "python3", "-c", ServerScript })
        {
            start.ArgumentList.Add(a);
        }

        server = Process.Start(start);
    }

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            // Ends only the server this test started, by its PID.
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            server.Dispose();
        }

        await RunChecked(["ip", "netns", "del", ClientNs], check: false);
        await RunChecked(["ip", "netns", "del", EndpointNs], check: false);
    }

    private static Task<HostCommandResult> Run(params string[] args) => RunChecked(args, check: true);

    private static async Task<HostCommandResult> RunChecked(string[] args, bool check)
    {
        var result = await new HostCommand([]).RunAsync(args, null, CancellationToken.None);
        if (check)
        {
            Assert.True(result.Succeeded, $"{string.Join(' ', args)}: {result.StandardError}");
        }

        return result;
    }

    private Task<HostCommandResult> Connect(string ip, int port, double timeoutSeconds) =>
        new HostCommand(["ip", "netns", "exec", ClientNs]).RunAsync(["python3", "-c", ClientScript, ip, port.ToString(System.Globalization.CultureInfo.InvariantCulture), timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)], null, CancellationToken.None);

    [Fact]
    public async Task ClusterIp_RulesApplied_ReachesEndpointAndCleanupRemovesPath()
    {
        // The endpoint answers directly first (the server is up).
        HostCommandResult direct = new(1, string.Empty, string.Empty);
        for (var attempt = 0; attempt < 100 && !direct.StandardOutput.Contains("endpoint-ok", StringComparison.Ordinal); attempt++)
        {
            direct = await Connect("10.250.0.2", 8080, 2);
        }

        Assert.Contains("endpoint-ok", direct.StandardOutput, StringComparison.Ordinal);

        var model = ServiceProxyModel.Build(
            [ProxyObjects.Service("web", "10.43.0.99", 80)],
            [ProxyObjects.Slice("web", 8080, "TCP", ("10.250.0.2", true))]);
        var runner = new IptablesRunner(new HostCommand(["ip", "netns", "exec", ClientNs]));
        var rules = IptablesRuleRenderer.Render(model, new ServiceProxyOptions());
        await runner.RestoreAsync(rules.Restore, CancellationToken.None);
        await runner.EnsureJumpsAsync(CancellationToken.None);

        var viaService = await Connect("10.43.0.99", 80, 5);
        Assert.Equal("endpoint-ok", viaService.StandardOutput.Trim());

        await runner.CleanupAsync(CancellationToken.None);

        var after = await Connect("10.43.0.99", 80, 1);
        Assert.False(after.Succeeded);
        var saved = await new HostCommand(["ip", "netns", "exec", ClientNs]).RunAsync(["iptables-save"], null, CancellationToken.None);
        Assert.DoesNotContain("KUBESHARP", saved.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureJumpsAsync_TwiceWithOneJumpAlreadyThere_EachJumpOnceAheadOfOtherRules()
    {
        var inClient = new HostCommand(["ip", "netns", "exec", ClientNs]);
        var runner = new IptablesRunner(inClient);
        var chains = IptablesChains.Default;
        var model = ServiceProxyModel.Build([ProxyObjects.Service("web", "10.43.0.99", 80)], []);
        await runner.RestoreAsync(IptablesRuleRenderer.Render(model, new ServiceProxyOptions()).Restore, CancellationToken.None);
        // A rule of someone else's in each hooked chain, and one of the jumps put there before (by an earlier start).
        foreach (var (table, chain) in new[] { ("nat", "PREROUTING"), ("nat", "OUTPUT"), ("nat", "POSTROUTING"), ("filter", "FORWARD"), ("filter", "OUTPUT"), ("filter", "INPUT") })
        {
            Assert.True((await inClient.RunAsync(["iptables", "-t", table, "-A", chain, "-s", "192.0.2.1/32", "-j", "ACCEPT"], null, CancellationToken.None)).Succeeded);
        }

        Assert.True((await inClient.RunAsync(["iptables", "-t", "nat", "-I", "PREROUTING", "1", "-m", "comment", "--comment", "kubesharp", "-j", chains.Services], null, CancellationToken.None)).Succeeded);

        await runner.EnsureJumpsAsync(CancellationToken.None);
        await runner.EnsureJumpsAsync(CancellationToken.None);

        var saved = (await inClient.RunAsync(["iptables-save"], null, CancellationToken.None)).StandardOutput;
        var tables = saved.Split('*').Skip(1).ToDictionary(t => t.Split('\n')[0].Trim(), t => t.Split('\n'));
        foreach (var (table, chain, target) in new[]
        {
            ("nat", "PREROUTING", chains.Services), ("nat", "OUTPUT", chains.Services), ("nat", "POSTROUTING", chains.Postrouting),
            ("filter", "FORWARD", chains.Forward), ("filter", "FORWARD", chains.Reject), ("filter", "OUTPUT", chains.Reject), ("filter", "INPUT", chains.Reject),
        })
        {
            var rules = tables[table].Where(l => l.StartsWith($"-A {chain} ", StringComparison.Ordinal)).ToList();
            var ours = rules.FindAll(l => l.EndsWith($"-j {target}", StringComparison.Ordinal) && l.Contains("--comment kubesharp", StringComparison.Ordinal));
            Assert.True(ours.Count == 1, $"{table} {chain} -> {target}: {string.Join(" | ", rules)}");
            Assert.True(rules.IndexOf(ours[0]) < rules.FindIndex(l => l.Contains("192.0.2.1", StringComparison.Ordinal)), $"{table} {chain}: {string.Join(" | ", rules)}");
        }
    }

    [Fact]
    public async Task ClusterIp_NoEndpoints_RejectedImmediately()
    {
        var runner = new IptablesRunner(new HostCommand(["ip", "netns", "exec", ClientNs]));
        var rules = IptablesRuleRenderer.Render(ServiceProxyModel.Build([ProxyObjects.Service("web", "10.43.0.98", 80)], []), new ServiceProxyOptions());
        await runner.RestoreAsync(rules.Restore, CancellationToken.None);
        await runner.EnsureJumpsAsync(CancellationToken.None);

        var refused = await Connect("10.43.0.98", 80, 5);

        Assert.Contains("ConnectionRefusedError", refused.StandardOutput, StringComparison.Ordinal);
        await runner.CleanupAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ClearUdpConntrack_EndpointRemoved_DropsTheServiceFlow()
    {
        var runner = new IptablesRunner(new HostCommand(["ip", "netns", "exec", ClientNs]));
        var model = ServiceProxyModel.Build(
            [ProxyObjects.Service("dns", "10.43.0.97", 53, "UDP")],
            [ProxyObjects.Slice("dns", 5353, "UDP", ("10.250.0.2", true))]);
        await runner.RestoreAsync(IptablesRuleRenderer.Render(model, new ServiceProxyOptions()).Restore, CancellationToken.None);
        await runner.EnsureJumpsAsync(CancellationToken.None);
        var inNs = new HostCommand(["ip", "netns", "exec", ClientNs]);
        // A datagram to the service leaves a DNATed, unreplied flow (reply expected from the endpoint) in the conntrack table.
        await inNs.RunAsync(["python3", "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'q', ('10.43.0.97', 53))"], null, CancellationToken.None);
        string[] list = ["conntrack", "-L", "-p", "udp", "--orig-dst", "10.43.0.97"];
        var before = await inNs.RunAsync(list, null, CancellationToken.None);
        Assert.True(before.Succeeded, $"conntrack (Debian package conntrack) must be installed: {before.StandardError}");
        Assert.Contains("src=10.250.0.2", before.StandardOutput, StringComparison.Ordinal);

        await runner.ClearUdpConntrackAsync("10.43.0.97", "10.250.0.2", CancellationToken.None);

        var after = await inNs.RunAsync(list, null, CancellationToken.None);
        Assert.DoesNotContain("10.43.0.97", after.StandardOutput, StringComparison.Ordinal);
        await runner.CleanupAsync(CancellationToken.None);
    }
}
