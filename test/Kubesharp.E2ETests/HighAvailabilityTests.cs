using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Xunit.Abstractions;

namespace Kubesharp.E2ETests;

/// <summary>
/// Three real <c>kubesharp server</c> processes on loopback, each with its own etcd member: the first with
/// <c>--cluster-init</c>, the others joined with <c>--server</c> and the server token. Writes through any server are
/// read through all; the server leading the controller manager and the scheduler is killed (with its etcd) and the
/// others keep serving writes while the leases move; an agent joined to the killed server keeps its nodes Ready through
/// the others; and <c>--cluster-reset</c> brings the last server back alone after quorum is lost.
/// </summary>
public sealed class HighAvailabilityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Etcd = "/usr/bin/etcd";

    private readonly string root = Path.Combine(Path.GetTempPath(), "kubesharp-ha-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<Server> servers = [];
    private readonly List<Process> processes = [];

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(root);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ThreeServers_LeaderKilled_OthersServeWritesLeasesMoveAgentFailsOverAndResetRecovers()
    {
        Assert.True(File.Exists(Etcd), $"{Etcd} is missing: install the etcd-server package (node-packages.txt)");
        var first = await StartServerAsync("a", ["--cluster-init"]);
        var token = (await File.ReadAllTextAsync(Path.Combine(first.DataDir, "server", "token"))).Trim();

        // Only the server token reads the cluster's keys: the administrator's certificate is refused.
        var refused = await KubectlAsync(first, "get", "--raw", "/v1-kubesharp/server-bootstrap");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Forbidden", refused.Error, StringComparison.OrdinalIgnoreCase);

        // The second joins through the first, the third through the second: any server hands the cluster over.
        var second = await StartServerAsync("b", ["--server", first.Url, "--token", token]);
        var third = await StartServerAsync("c", ["--server", second.Url, "--token", token]);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(first.DataDir, "server", "tls", "ca.crt")), await File.ReadAllTextAsync(Path.Combine(third.DataDir, "server", "tls", "ca.crt")));
        var members = await KubesharpAsync("etcd", "member", "list", "--data-dir", third.DataDir);
        Assert.True(members.ExitCode == 0, members.Error);
        Assert.Equal(3, members.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1);

        // A write through any server is read through every other.
        (await KubectlAsync(first, "create", "configmap", "from-a", "-n", "default")).Ok();
        (await KubectlAsync(third, "create", "configmap", "from-c", "-n", "default")).Ok();
        foreach (var server in servers)
        {
            var names = (await KubectlAsync(server, "get", "configmaps", "-n", "default", "-o", "name")).Ok().Output;
            Assert.Contains("configmap/from-a", names, StringComparison.Ordinal);
            Assert.Contains("configmap/from-c", names, StringComparison.Ordinal);
        }

        // Every server lists itself in the kubernetes Endpoints.
        await EventuallyAsync(async () => (await ApiServersAsync(third)).Count == 3, TimeSpan.FromSeconds(60), "the kubernetes Endpoints did not list the three servers");

        // The agent joins the server that leads the controller manager, which is killed next.
        var leader = await LeaseHolderServerAsync(second, "kube-controller-manager");
        Assert.NotNull(leader);
        var agent = await StartAgentAsync(leader!, token);
        var survivors = servers.Where(s => s != leader).ToList();
        await EventuallyAsync(async () => (await SimulatedNodesReadyAsync(survivors[0])).Count == 2, TimeSpan.FromSeconds(90), "the agent's nodes did not become Ready");
        var schedulerLeader = await LeaseHolderAsync(second, "kube-scheduler");

        Kill(leader!);
        var killedAt = DateTimeOffset.UtcNow;
        var gap = Stopwatch.StartNew();

        // The two others keep serving writes (etcd keeps quorum with two of three members).
        var written = 0;
        for (var attempt = 0; attempt < 300 && gap.Elapsed < TimeSpan.FromSeconds(90) && written < 2; attempt++)
        {
            var server = survivors[attempt % 2];
            var created = await KubectlAsync(server, "create", "configmap", $"after-kill-{attempt}", "-n", "default", "--request-timeout=5s");
            written += created.ExitCode == 0 ? 1 : 0;
            if (written == 1 && created.ExitCode == 0)
            {
                output.WriteLine($"first write after the kill: {gap.Elapsed.TotalSeconds:F1} s");
            }

            if (created.ExitCode != 0)
            {
                await Task.Delay(200);
            }
        }

        Assert.True(written == 2, "writes through the surviving servers did not succeed");
        var visible = (await KubectlAsync(survivors[1], "get", "configmaps", "-n", "default", "-o", "name")).Ok().Output;
        Assert.Contains("configmap/from-a", visible, StringComparison.Ordinal);

        // The leases move to a surviving server; the dead one leaves the kubernetes Endpoints.
        await EventuallyAsync(async () => await LeaseHolderServerAsync(survivors[0], "kube-controller-manager") is { } holder && holder != leader, TimeSpan.FromSeconds(120), "the controller manager's lease did not move");
        output.WriteLine($"controller manager leader moved after {gap.Elapsed.TotalSeconds:F1} s");
        if (schedulerLeader == leader!.Identity)
        {
            await EventuallyAsync(async () => await LeaseHolderAsync(survivors[0], "kube-scheduler") is { } holder && holder != leader.Identity && servers.Any(s => s.Identity == holder), TimeSpan.FromSeconds(120), "the scheduler's lease did not move");
            output.WriteLine($"scheduler leader moved after {gap.Elapsed.TotalSeconds:F1} s");
        }

        await EventuallyAsync(async () => (await ApiServersAsync(survivors[0])).Count == 2, TimeSpan.FromSeconds(90), "the dead server stayed in the kubernetes Endpoints");

        // The agent went over to another server: its nodes' leases are renewed after the kill, and past the node monitor
        // grace period (40 s) its nodes are still Ready.
        await EventuallyAsync(async () => await NodeLeasesRenewedAfterAsync(survivors[0], killedAt.AddSeconds(2)), TimeSpan.FromSeconds(60), "the agent's node leases were not renewed after its server died");
        var sinceKill = DateTimeOffset.UtcNow - killedAt;
        if (sinceKill < TimeSpan.FromSeconds(45))
        {
            await Task.Delay(TimeSpan.FromSeconds(45) - sinceKill);
        }

        Assert.Equal(2, (await SimulatedNodesReadyAsync(survivors[1])).Count);
        Assert.False(agent.HasExited, "the agent exited");

        // Quorum lost: a second server dies; the last one is restarted with --cluster-reset and serves everything alone.
        Kill(survivors[0]);
        var last = survivors[1];
        await StopAsync(last);
        var reset = await StartServerAsync(last.Name, [.. last.Arguments.Where((a, i) => a is not ("--server" or "--token") && (i == 0 || last.Arguments[i - 1] is not ("--server" or "--token"))), "--cluster-reset"], last);
        var afterReset = (await KubectlAsync(reset, "get", "configmaps", "-n", "default", "-o", "name")).Ok().Output;
        Assert.Contains("configmap/from-a", afterReset, StringComparison.Ordinal);
        Assert.Contains("configmap/from-c", afterReset, StringComparison.Ordinal);
        (await KubectlAsync(reset, "create", "configmap", "after-reset", "-n", "default")).Ok();
        members = await KubesharpAsync("etcd", "member", "list", "--data-dir", reset.DataDir);
        Assert.True(members.ExitCode == 0, members.Error);
        Assert.Single(members.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..]);
    }

    public async Task DisposeAsync()
    {
        foreach (var process in processes)
        {
            await KubectlServer.StopAsync(process);
        }

        // Members whose server was killed: end them by their PID when they are still this test's etcd.
        foreach (var server in servers)
        {
            KillMember(server);
        }

        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<Server> StartServerAsync(string name, string[] arguments, Server? previous = null)
    {
        var dataDir = previous?.DataDir ?? Path.Combine(root, name);
        var clientPort = previous?.EtcdClientPort ?? ChildProcess.FreePort();
        var peerPort = previous?.EtcdPeerPort ?? ChildProcess.FreePort();
        string[] all =
        [
            "--disable-agent", "--advertise-address", "127.0.0.1",
            "--etcd-client-port", clientPort.ToString(CultureInfo.InvariantCulture), "--etcd-peer-port", peerPort.ToString(CultureInfo.InvariantCulture),
            .. arguments,
        ];
        var process = await KubectlServer.StartAsync(dataDir, all);
        processes.Add(process);
        var server = new Server(name, dataDir, process, arguments, clientPort, peerPort, HttpsPortOf(dataDir));
        servers.RemoveAll(s => s.DataDir == dataDir);
        servers.Add(server);
        return server;
    }

    private async Task<Process> StartAgentAsync(Server server, string token)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "kubesharp.dll"), "agent", "--server", server.Url, "--token", token, "--simulated-nodes", "2", "--node-name", "ha-agent", "--data-dir", Path.Combine(root, "agent") })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        processes.Add(process);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("simulated nodes ready", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.WriteLine("agent: " + e.Data);
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("the agent exited before it was ready"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(120));
        return process;
    }

    /// <summary>A server dies: its process and its etcd member are killed.</summary>
    private void Kill(Server server)
    {
        server.Process.Kill();
        server.Process.WaitForExit(TimeSpan.FromSeconds(10));
        KillMember(server);
    }

    private async Task StopAsync(Server server)
    {
        processes.Remove(server.Process);
        await KubectlServer.StopAsync(server.Process);
    }

    private static void KillMember(Server server)
    {
        var pidFile = Path.Combine(server.DataDir, "server", "etcd", "etcd.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }

        try
        {
            if (File.ReadAllText($"/proc/{pid}/cmdline").Contains(server.DataDir, StringComparison.Ordinal))
            {
                using var member = Process.GetProcessById(pid);
                member.Kill();
                member.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
        }
    }

    private async Task<string?> LeaseHolderAsync(Server server, string lease)
    {
        var result = await KubectlAsync(server, "get", "lease", lease, "-n", "kube-system", "-o", "jsonpath={.spec.holderIdentity}", "--request-timeout=5s");
        return result.ExitCode == 0 && result.Output.Trim().Length > 0 ? result.Output.Trim() : null;
    }

    private async Task<Server?> LeaseHolderServerAsync(Server server, string lease) =>
        await LeaseHolderAsync(server, lease) is { } holder ? servers.FirstOrDefault(s => s.Identity == holder) : null;

    private async Task<List<string>> ApiServersAsync(Server server)
    {
        var result = await KubectlAsync(server, "get", "endpoints", "kubernetes", "-n", "default", "-o", "jsonpath={range .subsets[*]}{.addresses[*].ip}:{.ports[0].port} {end}", "--request-timeout=5s");
        return result.ExitCode == 0 ? [.. result.Output.Split(' ', StringSplitOptions.RemoveEmptyEntries)] : [];
    }

    private async Task<List<string>> SimulatedNodesReadyAsync(Server server)
    {
        var result = await KubectlAsync(server, "get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type==\"Ready\")].status} {end}", "--request-timeout=5s");
        return result.ExitCode == 0
            ? [.. result.Output.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(n => n.StartsWith("ha-agent-sim-", StringComparison.Ordinal) && n.EndsWith("=True", StringComparison.Ordinal))]
            : [];
    }

    private async Task<bool> NodeLeasesRenewedAfterAsync(Server server, DateTimeOffset after)
    {
        var result = await KubectlAsync(server, "get", "leases", "-n", "kube-node-lease", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.renewTime} {end}", "--request-timeout=5s");
        if (result.ExitCode != 0)
        {
            return false;
        }

        var renewed = result.Output.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("ha-agent-sim-", StringComparison.Ordinal))
            .Select(l => DateTimeOffset.Parse(l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture))
            .ToList();
        return renewed.Count == 2 && renewed.All(r => r > after);
    }

    private async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string failure)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 0; attempt < 600 && clock.Elapsed < timeout; attempt++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(500);
        }

        Assert.Fail($"{failure} within {timeout.TotalSeconds} s");
    }

    private Task<Kubectl.Result> KubectlAsync(Server server, params string[] args) =>
        ChildProcess.RunAsync("kubectl", ["--kubeconfig", Path.Combine(server.DataDir, "kubeconfig.yaml"), .. args], new Dictionary<string, string> { ["HOME"] = root });

    private static Task<Kubectl.Result> KubesharpAsync(params string[] args) => ChildProcess.RunAsync("dotnet", ChildProcess.Kubesharp(args));

    private static int HttpsPortOf(string dataDir)
    {
        var kubeconfig = File.ReadAllText(Path.Combine(dataDir, "kubeconfig.yaml"));
        var server = kubeconfig[(kubeconfig.IndexOf("server: ", StringComparison.Ordinal) + "server: ".Length)..].Split('\n')[0].Trim();
        return new Uri(server).Port;
    }

    private sealed record Server(string Name, string DataDir, Process Process, string[] Arguments, int EtcdClientPort, int EtcdPeerPort, int HttpsPort)
    {
        public string Url => $"https://127.0.0.1:{HttpsPort}";

        /// <summary>The server's leader-election identity: the host name plus a digest of its data directory.</summary>
        public string Identity => $"{Environment.MachineName}_{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(DataDir)))[..16]}";
    }
}
