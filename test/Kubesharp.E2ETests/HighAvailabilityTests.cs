using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Kubesharp.E2ETests.Support;
using Kubesharp.Storage.Tests;
using Xunit.Abstractions;

namespace Kubesharp.E2ETests;

/// <summary>
/// Three real <c>kubesharp server</c> processes on loopback, each with its own etcd member: the first with
/// <c>--cluster-init</c>, the others joined with <c>--server</c> and the server token. The server leading the controller
/// manager is killed (with its etcd) during a 200-replica rollout: the others keep serving writes, the leases move, the
/// rollout completes, no acknowledged write is lost, an agent joined to the killed server keeps its nodes Ready, and the
/// killed server rejoins. A snapshot taken under load, a member removed, <c>--cluster-reset</c> after quorum is lost and
/// the snapshot restored into a new one-member cluster keep every acknowledged object.
/// </summary>
public sealed class HighAvailabilityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Etcd = "/usr/bin/etcd";
    private const int SimulatedNodes = 4;
    private const int Replicas = 200;

    private readonly string root = Path.Combine(Path.GetTempPath(), "kubesharp-ha-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<Server> servers = [];
    private readonly List<Process> processes = [];

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(root);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ThreeServers_LeaderKilledDuringRollout_RolloutCompletesNoAcknowledgedWriteLostAgentFailsOverServerRejoins()
    {
        var (first, second, third, token) = await StartThreeServersAsync();

        // Only the server token reads the cluster's keys: the administrator's certificate is refused.
        var refused = await KubectlAsync(first, "get", "--raw", "/v1-kubesharp/server-bootstrap");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Forbidden", refused.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(first.DataDir, "server", "tls", "ca.crt")), await File.ReadAllTextAsync(Path.Combine(third.DataDir, "server", "tls", "ca.crt")));

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
        await EventuallyAsync(async () => (await SimulatedNodesReadyAsync(survivors[0])).Count == SimulatedNodes, TimeSpan.FromSeconds(90), "the agent's nodes did not become Ready");
        var schedulerLeader = await LeaseHolderAsync(second, "kube-scheduler");

        // A 200-replica Deployment, all available; then a new image starts a rollout that takes a while (minReadySeconds).
        (await KubectlAsync(survivors[0], ["apply", "-f", "-"], Deployment("v1"))).Ok();
        await EventuallyAsync(async () => await DeploymentStatusAsync(survivors[0]) is { Available: Replicas }, TimeSpan.FromSeconds(300), "the Deployment's 200 replicas did not become available");

        // Writes through all three servers, before and after the kill; each acknowledged one is recorded.
        var acknowledged = new ConcurrentQueue<(string Name, DateTimeOffset At)>();
        using var stopWriting = new CancellationTokenSource();
        var writer = WriteConfigMapsAsync([.. servers], "ack", acknowledged, stopWriting.Token);
        await EventuallyAsync(() => Task.FromResult(acknowledged.Count >= 3), TimeSpan.FromSeconds(60), "no write was acknowledged before the kill");

        // The kill comes once the rollout has begun and before it ends (minReadySeconds makes it take over 20 s).
        var generationBefore = (await DeploymentStatusAsync(survivors[0]))!.Generation;
        (await KubectlAsync(survivors[0], "set", "image", "deployment/web", "web=registry.invalid/web:v2", "-n", "default")).Ok();
        DeploymentStatus? atKill = null;
        // A status the controller wrote for the new template: until then it still counts the old revision's pods as updated.
        await EventuallyAsync(
            async () => (atKill = await DeploymentStatusAsync(survivors[0])) is { Updated: > 0 } s && s.Generation > generationBefore && s.ObservedGeneration == s.Generation,
            TimeSpan.FromSeconds(120),
            "the rollout did not begin");
        Kill(leader!);
        var killedAt = DateTimeOffset.UtcNow;
        var gap = Stopwatch.StartNew();
        Assert.True(atKill is { Updated: > 0 and < Replicas }, $"the rollout was not under way at the kill: {atKill}");
        output.WriteLine($"at the kill: {atKill}");

        // The two others keep serving writes (etcd keeps quorum with two of three members).
        await EventuallyAsync(() => Task.FromResult(acknowledged.Any(a => a.At > killedAt)), TimeSpan.FromSeconds(90), "writes through the surviving servers did not succeed");
        output.WriteLine($"first write acknowledged after the kill: {gap.Elapsed.TotalSeconds:F1} s");

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

        Assert.Equal(SimulatedNodes, (await SimulatedNodesReadyAsync(survivors[1])).Count);
        Assert.False(agent.HasExited, "the agent exited");

        // No acknowledged write is lost: every one, before and after the kill, is read through a survivor.
        await stopWriting.CancelAsync();
        await writer;
        var before = acknowledged.Count(a => a.At < killedAt);
        var after = acknowledged.Count(a => a.At > killedAt);
        output.WriteLine($"acknowledged writes: {before} before the kill, {after} after");
        Assert.True(before > 0 && after > 0, $"acknowledged writes: {before} before the kill, {after} after");
        AssertEveryAcknowledgedWrite(await ConfigMapNamesAsync(survivors[1]), acknowledged);

        // The rollout the kill interrupted completes under the new controller manager, seen through real kubectl.
        var rollout = await ChildProcess.RunAsync("kubectl", ["--kubeconfig", Path.Combine(survivors[1].DataDir, "kubeconfig.yaml"), "rollout", "status", "deployment/web", "-n", "default", "--timeout=300s"], new Dictionary<string, string> { ["HOME"] = root }, timeout: TimeSpan.FromSeconds(330));
        Assert.True(rollout.ExitCode == 0, rollout.Output + rollout.Error);
        await EventuallyAsync(async () => await DeploymentStatusAsync(survivors[1]) is { Replicas: Replicas, Updated: Replicas, Available: Replicas }, TimeSpan.FromSeconds(120), "the Deployment did not settle at 200 updated replicas");
        output.WriteLine($"rollout complete after {gap.Elapsed.TotalSeconds:F1} s");

        // The killed server starts again on its data directory: its member rejoins, catches up and it serves again.
        var restarted = await StartServerAsync(leader.Name, leader.Arguments, leader);
        var members = (await KubesharpAsync("etcd", "member", "list", "--data-dir", survivors[0].DataDir)).Ok().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..];
        Assert.Equal(3, members.Length);
        Assert.DoesNotContain(members, m => m.Contains("(not started)", StringComparison.Ordinal));
        AssertEveryAcknowledgedWrite(await ConfigMapNamesAsync(restarted), acknowledged);
        (await KubectlAsync(restarted, "create", "configmap", "after-rejoin", "-n", "default")).Ok();
        Assert.Contains("configmap/after-rejoin", await ConfigMapNamesAsync(survivors[0]));
        await EventuallyAsync(async () => (await ApiServersAsync(survivors[1])).Count == 3, TimeSpan.FromSeconds(90), "the restarted server did not come back into the kubernetes Endpoints");
    }

    [Fact]
    public async Task ThreeServers_SnapshotUnderLoadMemberRemovedQuorumLost_ResetAndRestoreRecoverEveryObject()
    {
        var (first, second, third, _) = await StartThreeServersAsync();

        // A snapshot taken through the second server while writes go on through all three.
        var acknowledged = new ConcurrentQueue<(string Name, DateTimeOffset At)>();
        using var stopWriting = new CancellationTokenSource();
        var writer = WriteConfigMapsAsync([first, second, third], "load", acknowledged, stopWriting.Token);
        await EventuallyAsync(() => Task.FromResult(acknowledged.Count >= 5), TimeSpan.FromSeconds(90), "no write was acknowledged before the snapshot");
        var beforeSnapshot = acknowledged.ToArray();
        var saved = (await KubesharpAsync("datastore", "snapshot", "save", "--name", "under-load", "--data-dir", second.DataDir)).Ok().Output;
        var savedAt = DateTimeOffset.UtcNow;
        await EventuallyAsync(() => Task.FromResult(acknowledged.Count(a => a.At > savedAt) >= 3), TimeSpan.FromSeconds(90), "writes stopped while the snapshot was taken");
        await stopWriting.CancelAsync();
        await writer;
        var snapshot = Path.Combine(root, "under-load.db");
        File.Copy(saved[(saved.LastIndexOf(" to ", StringComparison.Ordinal) + 4)..].Trim(), snapshot);

        // A server gone for good: stopped, then its member removed through another server.
        var thirdMember = (await File.ReadAllTextAsync(Path.Combine(third.DataDir, "server", "etcd", "name"))).Trim();
        await StopAsync(third);
        (await KubesharpAsync("etcd", "member", "remove", thirdMember, "--data-dir", first.DataDir)).Ok();
        var members = (await KubesharpAsync("etcd", "member", "list", "--data-dir", first.DataDir)).Ok().Output;
        Assert.Equal(2, members.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1);
        Assert.DoesNotContain(thirdMember, members, StringComparison.Ordinal);
        (await KubectlAsync(first, "create", "configmap", "after-remove", "-n", "default")).Ok();

        // Quorum lost: the second dies; the first is restarted with --cluster-reset and serves everything alone.
        Kill(second);
        await StopAsync(first);
        var reset = await StartServerAsync(first.Name, [.. first.Arguments, "--cluster-reset"], first);
        var afterReset = await ConfigMapNamesAsync(reset);
        AssertEveryAcknowledgedWrite(afterReset, acknowledged);
        Assert.Contains("configmap/after-remove", afterReset);
        (await KubectlAsync(reset, "create", "configmap", "after-reset", "-n", "default")).Ok();
        members = (await KubesharpAsync("etcd", "member", "list", "--data-dir", reset.DataDir)).Ok().Output;
        Assert.Single(members.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..]);

        // The snapshot taken under load becomes a new one-member cluster holding every object acknowledged before it,
        // and nothing written after the reset.
        await StopAsync(reset);
        (await KubesharpAsync("datastore", "snapshot", "restore", snapshot, "--data-dir", reset.DataDir, "--force")).Ok();
        var restored = await StartServerAsync(first.Name, first.Arguments, reset);
        var afterRestore = await ConfigMapNamesAsync(restored);
        AssertEveryAcknowledgedWrite(afterRestore, beforeSnapshot);
        Assert.DoesNotContain("configmap/after-reset", afterRestore);
        members = (await KubesharpAsync("etcd", "member", "list", "--data-dir", restored.DataDir)).Ok().Output;
        Assert.Single(members.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..]);
        (await KubectlAsync(restored, "create", "configmap", "after-restore", "-n", "default")).Ok();
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

    /// <summary>The first server with <c>--cluster-init</c>, the second joined through the first, the third through the second.</summary>
    private async Task<(Server First, Server Second, Server Third, string Token)> StartThreeServersAsync()
    {
        Assert.True(File.Exists(Etcd), $"{Etcd} is missing: install the etcd-server package (node-packages.txt)");
        var first = await StartServerAsync("a", ["--cluster-init"]);
        var token = (await File.ReadAllTextAsync(Path.Combine(first.DataDir, "server", "token"))).Trim();
        var second = await StartServerAsync("b", ["--server", first.Url, "--token", token]);
        var third = await StartServerAsync("c", ["--server", second.Url, "--token", token]);
        var members = (await KubesharpAsync("etcd", "member", "list", "--data-dir", third.DataDir)).Ok().Output;
        Assert.Equal(3, members.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1);
        return (first, second, third, token);
    }

    /// <summary>Creates ConfigMaps through the servers in turn until stopped; each one kubectl saw acknowledged is recorded.</summary>
    private async Task WriteConfigMapsAsync(IReadOnlyList<Server> targets, string prefix, ConcurrentQueue<(string Name, DateTimeOffset At)> acknowledged, CancellationToken stop)
    {
        for (var n = 0; n < 100_000 && !stop.IsCancellationRequested; n++)
        {
            var name = $"{prefix}-{n}";
            var created = await KubectlAsync(targets[n % targets.Count], "create", "configmap", name, "-n", "default", "--request-timeout=5s");
            if (created.ExitCode == 0)
            {
                acknowledged.Enqueue((name, DateTimeOffset.UtcNow));
            }
        }
    }

    private static void AssertEveryAcknowledgedWrite(string names, IEnumerable<(string Name, DateTimeOffset At)> acknowledged)
    {
        var present = names.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(n => n.Trim()).ToHashSet(StringComparer.Ordinal);
        var lost = acknowledged.Where(a => !present.Contains("configmap/" + a.Name)).Select(a => a.Name).ToList();
        Assert.True(lost.Count == 0, $"acknowledged writes lost: {string.Join(", ", lost)}");
    }

    private async Task<string> ConfigMapNamesAsync(Server server) =>
        (await KubectlAsync(server, "get", "configmaps", "-n", "default", "-o", "name", "--request-timeout=30s")).Ok().Output;

    private async Task<DeploymentStatus?> DeploymentStatusAsync(Server server)
    {
        var result = await KubectlAsync(server, "get", "deployment", "web", "-n", "default", "-o", "jsonpath={.status.replicas} {.status.updatedReplicas} {.status.availableReplicas} {.metadata.generation} {.status.observedGeneration}", "--request-timeout=5s");
        if (result.ExitCode != 0)
        {
            return null;
        }

        var fields = result.Output.Split(' ').Select(f => int.TryParse(f, CultureInfo.InvariantCulture, out var n) ? n : 0).ToArray();
        return fields.Length == 5 ? new DeploymentStatus(fields[0], fields[1], fields[2], fields[3], fields[4]) : null;
    }

    /// <summary>A Deployment of <see cref="Replicas"/> pods on the simulated nodes, each available 5 s after it is ready.</summary>
    private static string Deployment(string version) => $$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: default}
        spec:
          replicas: {{Replicas}}
          minReadySeconds: 5
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              tolerations:
              - {key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}
              containers:
              - name: web
                image: registry.invalid/web:{{version}}
        """;

    private async Task<Server> StartServerAsync(string name, string[] arguments, Server? previous = null)
    {
        var dataDir = previous?.DataDir ?? Path.Combine(root, name);
        var clientPort = previous?.EtcdClientPort ?? LoopbackPort.Free();
        var peerPort = previous?.EtcdPeerPort ?? LoopbackPort.Free();
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
        var info = KubesharpExecutable.StartInfo("agent", "--server", server.Url, "--token", token, "--simulated-nodes", SimulatedNodes.ToString(CultureInfo.InvariantCulture), "--node-name", "ha-agent", "--data-dir", Path.Combine(root, "agent"));

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
        return renewed.Count == SimulatedNodes && renewed.All(r => r > after);
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

    private Task<Kubectl.Result> KubectlAsync(Server server, params string[] args) => KubectlAsync(server, args, stdin: null);

    private Task<Kubectl.Result> KubectlAsync(Server server, string[] args, string? stdin) =>
        ChildProcess.RunAsync("kubectl", ["--kubeconfig", Path.Combine(server.DataDir, "kubeconfig.yaml"), .. args], new Dictionary<string, string> { ["HOME"] = root }, stdin);

    private static Task<Kubectl.Result> KubesharpAsync(params string[] args) => ChildProcess.RunKubesharpAsync(args);

    private static int HttpsPortOf(string dataDir) => new Uri(KubectlServer.UrlOf(dataDir)).Port;

    private sealed record DeploymentStatus(int Replicas, int Updated, int Available, int Generation, int ObservedGeneration);

    private sealed record Server(string Name, string DataDir, Process Process, string[] Arguments, int EtcdClientPort, int EtcdPeerPort, int HttpsPort)
    {
        public string Url => $"https://127.0.0.1:{HttpsPort}";

        /// <summary>The server's leader-election identity: the host name plus a digest of its data directory.</summary>
        public string Identity => $"{Environment.MachineName}_{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(DataDir)))[..16]}";
    }
}
