using System.Diagnostics;
using Kubesharp.Kubelet.Runtime;

namespace Kubesharp.Kubelet.Tests.Network.Overlay;

/// <summary>
/// Two "hosts" and two "pods", each a network namespace of this test: the node namespaces are joined by a veth
/// pair (192.168.240.1 and .2, like two machines on one link), each has a bridge holding the gateway of its pod
/// range (10.244.1.0/24, 10.244.2.0/24 of 10.244.0.0/16) with one pod namespace attached. Nothing routes between
/// the pod ranges until an overlay does. Disposing deletes the namespaces, and with them every link and rule in them.
/// </summary>
internal sealed class TwoNodeTestbed : IAsyncDisposable
{
    public const string ClusterCidr = "10.244.0.0/16";

    private const string EchoPeerScript =
        "import socket\n" +
        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 8080)); s.listen(16)\n" +
        "while True:\n" +
        "    c,a=s.accept(); c.sendall((a[0]+'\\n').encode()); c.close()\n";

    private const string ClientScript =
        "import socket,sys\n" +
        "try:\n" +
        "    c=socket.create_connection((sys.argv[1], 8080), timeout=2); print(c.recv(100).decode().strip())\n" +
        "except Exception as e:\n" +
        "    print('failed', type(e).__name__); sys.exit(1)\n";

    private readonly string id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
    private readonly List<string> namespaces = [];
    private readonly List<string> hostLinks = [];
    private Process? server;

    public TwoNodeTestbed()
    {
        Node1 = new TestNode($"ksov-n1-{id}", "192.168.240.1", "10.244.1.0/24", "10.244.1.1", $"ksov-p1-{id}", "10.244.1.2");
        Node2 = new TestNode($"ksov-n2-{id}", "192.168.240.2", "10.244.2.0/24", "10.244.2.1", $"ksov-p2-{id}", "10.244.2.2");
    }

    public TestNode Node1 { get; }

    public TestNode Node2 { get; }

    public string Id => id;

    /// <summary>Builds the namespaces; the pods' links get <paramref name="podMtu"/>.</summary>
    public async Task CreateAsync(int podMtu)
    {
        foreach (var ns in new[] { Node1.Namespace, Node2.Namespace, Node1.PodNamespace, Node2.PodNamespace })
        {
            await RunAsync("ip", "netns", "add", ns);
            namespaces.Add(ns);
            await RunAsync("ip", "-n", ns, "link", "set", "lo", "up");
        }

        // The wire between the two hosts.
        await VethAsync($"kov1{id}", Node1.Namespace, $"kov2{id}", Node2.Namespace);
        foreach (var (node, link) in new[] { (Node1, $"kov1{id}"), (Node2, $"kov2{id}") })
        {
            await RunAsync("ip", "-n", node.Namespace, "addr", "add", node.Address + "/24", "dev", link);
            await RunAsync("ip", "-n", node.Namespace, "link", "set", link, "up");
            await RunAsync("ip", "netns", "exec", node.Namespace, "sysctl", "-qw", "net.ipv4.ip_forward=1");
            await RunAsync("ip", "-n", node.Namespace, "link", "add", "ksbr0", "type", "bridge");
            await RunAsync("ip", "-n", node.Namespace, "link", "set", "ksbr0", "mtu", podMtu.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await RunAsync("ip", "-n", node.Namespace, "addr", "add", node.Gateway + "/24", "dev", "ksbr0");
            await RunAsync("ip", "-n", node.Namespace, "link", "set", "ksbr0", "up");

            // The pod: eth0 in its namespace, the other end on the node's bridge.
            var hostEnd = $"kovh{(node == Node1 ? 1 : 2)}{id}";
            await VethAsync("eth0", node.PodNamespace, hostEnd, node.Namespace);
            await RunAsync("ip", "-n", node.Namespace, "link", "set", hostEnd, "master", "ksbr0", "mtu", podMtu.ToString(System.Globalization.CultureInfo.InvariantCulture), "up");
            await RunAsync("ip", "-n", node.PodNamespace, "link", "set", "eth0", "mtu", podMtu.ToString(System.Globalization.CultureInfo.InvariantCulture), "up");
            await RunAsync("ip", "-n", node.PodNamespace, "addr", "add", node.PodIp + "/24", "dev", "eth0");
            await RunAsync("ip", "-n", node.PodNamespace, "route", "add", "default", "via", node.Gateway);
        }

        // Pod B answers each connection with the source address it saw.
        var start = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "netns", "exec", Node2.PodNamespace, "python3", "-c", EchoPeerScript })
        {
            start.ArgumentList.Add(argument);
        }

        server = Process.Start(start) ?? throw new InvalidOperationException("could not start the pod's server");
    }

    /// <summary>Pod A connects to pod B's port 8080 once; returns what B saw as the source address, or null.</summary>
    public async Task<string?> ConnectPodToPodAsync()
    {
        var (exitCode, stdout, _) = await ExternalCommand.RunAsync("ip", ["netns", "exec", Node1.PodNamespace, "python3", "-c", ClientScript, Node2.PodIp], CancellationToken.None);
        return exitCode == 0 ? stdout.Trim() : null;
    }

    /// <summary>Connects until B answers (it may not be listening yet, the overlay may not be programmed yet) or the limit passes.</summary>
    public async Task<string?> WaitForPodToPodAsync(TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (await ConnectPodToPodAsync() is { } seen)
            {
                return seen;
            }

            if (deadline.Elapsed > limit)
            {
                return null;
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Pod B's server is listening: a connection from inside its own namespace succeeds.</summary>
    public async Task WaitForServerAsync(TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        while ((await ExternalCommand.RunAsync("ip", ["netns", "exec", Node2.PodNamespace, "python3", "-c", ClientScript, "127.0.0.1"], CancellationToken.None)).ExitCode != 0)
        {
            Assert.True(deadline.Elapsed < limit, "pod B's server did not start listening");
            await Task.Delay(200);
        }
    }

    public static async Task<string> RunAsync(params string[] arguments)
    {
        var (exitCode, stdout, stderr) = await ExternalCommand.RunAsync(arguments[0], arguments.Skip(1), CancellationToken.None);
        Assert.True(exitCode == 0, $"{string.Join(' ', arguments)}: {stderr}");
        return stdout;
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            // Ends only the server this test started, by its PID.
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            server.Dispose();
        }

        foreach (var link in hostLinks)
        {
            await ExternalCommand.RunAsync("ip", ["link", "del", link], CancellationToken.None);
        }

        foreach (var ns in namespaces)
        {
            await ExternalCommand.RunAsync("ip", ["netns", "del", ns], CancellationToken.None);
        }
    }

    private async Task VethAsync(string name, string nameNamespace, string peer, string peerNamespace)
    {
        // Created on the host for an instant, then moved; the cleanup deletes a host end that was left behind.
        var hostName = $"kovt{id}";
        var hostPeer = $"kovu{id}";
        hostLinks.Add(hostName);
        await RunAsync("ip", "link", "add", hostName, "type", "veth", "peer", "name", hostPeer);
        await RunAsync("ip", "link", "set", hostPeer, "netns", peerNamespace);
        await RunAsync("ip", "link", "set", hostName, "netns", nameNamespace);
        hostLinks.Remove(hostName);
        await RunAsync("ip", "-n", peerNamespace, "link", "set", hostPeer, "name", peer);
        await RunAsync("ip", "-n", nameNamespace, "link", "set", hostName, "name", name);
    }

    /// <summary>A node namespace and its pod.</summary>
    internal sealed record TestNode(string Namespace, string Address, string PodCidr, string Gateway, string PodNamespace, string PodIp)
    {
        public string Name => Namespace;

        public IReadOnlyList<string> CommandPrefix => ["ip", "netns", "exec", Namespace];
    }
}
