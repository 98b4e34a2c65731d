using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Net;
using Kubesharp.Storage.Tests;

namespace Kubesharp.E2ETests;

/// <summary>
/// The real <c>kubesharp server --cluster-init</c>: it runs its own etcd member, restarts it when it is killed (writes
/// succeed again), snapshots it on schedule and with <c>datastore snapshot save</c>, and stops it with the server; a
/// SQLite data directory moves onto the member and <c>datastore migrate</c> takes it back.
/// </summary>
public sealed class ClusterInitTests : IDisposable
{
    private const string Etcd = "/usr/bin/etcd";

    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-clusterinit-" + Guid.NewGuid().ToString("N"));
    private readonly List<int> etcdPids = [];

    private string PidFile => Path.Combine(dataDir, "server", "etcd", "etcd.pid");

    [Fact]
    public async Task ClusterInit_EtcdMemberKilled_IsRestartedAndWritesSucceedAgain()
    {
        Assert.True(File.Exists(Etcd), $"{Etcd} is missing: install the etcd-server package (node-packages.txt)");
        var server = await KubectlServer.StartAsync(dataDir, [
            "--disable-agent", "--cluster-init", "--etcd-client-port", LoopbackPort.Free().ToString(CultureInfo.InvariantCulture), "--etcd-peer-port", LoopbackPort.Free().ToString(CultureInfo.InvariantCulture),
            // The = form: System.CommandLine reads a token that starts with @ as a response file.
            "--snapshot-schedule=@every 2s", "--snapshot-retention", "2",
        ]);
        try
        {
            (await KubectlAsync("create", "configmap", "before-kill", "-n", "default")).Ok();
            var first = ReadPid();
            etcdPids.Add(first);
            var cmdline = await File.ReadAllTextAsync($"/proc/{first}/cmdline");
            Assert.StartsWith(Etcd, cmdline, StringComparison.Ordinal);
            Assert.Contains(Path.Combine(dataDir, "server", "etcd", "data"), cmdline, StringComparison.Ordinal);
            Assert.Contains("--peer-client-cert-auth", cmdline, StringComparison.Ordinal);

            using (var member = Process.GetProcessById(first))
            {
                member.Kill();
                await member.WaitForExitAsync();
            }

            // The supervisor starts a new member on the same data; the API server's writes go through again.
            var deadline = Stopwatch.StartNew();
            Kubectl.Result? created = null;
            for (var attempt = 0; attempt < 120 && deadline.Elapsed < TimeSpan.FromSeconds(120); attempt++)
            {
                created = await KubectlAsync("create", "configmap", "after-kill", "-n", "default", "--request-timeout=10s");
                // An attempt that timed out on the client side while the member restarted may still have been written.
                if (created.ExitCode == 0 || created.Error.Contains("already exists", StringComparison.Ordinal))
                {
                    break;
                }

                await Task.Delay(500);
            }

            Assert.True(created is { ExitCode: 0 } || created?.Error.Contains("already exists", StringComparison.Ordinal) == true, $"writes did not succeed after etcd was killed: {created?.Error}");
            var second = ReadPid();
            etcdPids.Add(second);
            Assert.NotEqual(first, second);
            Assert.True(IsRunning(second), $"the restarted etcd (pid {second}) is not running");
            var names = (await KubectlAsync("get", "configmaps", "-n", "default", "-o", "name")).Ok().Output;
            Assert.Contains("configmap/before-kill", names, StringComparison.Ordinal);
            Assert.Contains("configmap/after-kill", names, StringComparison.Ordinal);

            // The datastore verbs find the member on their own: a snapshot of the running cluster is an etcd snapshot.
            var save = await KubesharpAsync("datastore", "snapshot", "save", "--data-dir", dataDir);
            Assert.True(save.ExitCode == 0, save.Error);
            var list = await KubesharpAsync("datastore", "snapshot", "list", "--data-dir", dataDir);
            var rows = list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..].Select(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
            Assert.Equal("etcd", Assert.Single(rows, r => r[0].StartsWith("on-demand-", StringComparison.Ordinal))[1]);

            // The server's schedule snapshots the member too; once the first scheduled one is pruned, retention works.
            var snapshots = Path.Combine(dataDir, "server", "db", "snapshots");
            string? firstScheduled = null;
            for (var attempt = 0; attempt < 300; attempt++)
            {
                var now = Directory.GetFiles(snapshots, "scheduled-*").Where(f => !f.EndsWith(".part", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
                firstScheduled ??= now.FirstOrDefault();
                if (firstScheduled is not null && !now.Contains(firstScheduled))
                {
                    break;
                }

                await Task.Delay(100);
            }

            Assert.NotNull(firstScheduled);
            Assert.False(File.Exists(firstScheduled), "the oldest scheduled snapshot was not pruned");
            list = await KubesharpAsync("datastore", "snapshot", "list", "--data-dir", dataDir);
            Assert.True(list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..].Count(r => r.Contains(" etcd ", StringComparison.Ordinal)) >= 3, list.Output);
        }
        finally
        {
            await KubectlServer.StopAsync(server);
        }

        // Stopping the server stops its member: no etcd is left behind.
        foreach (var pid in etcdPids)
        {
            Assert.False(IsRunning(pid), $"etcd (pid {pid}) outlived the server");
        }

        Assert.False(File.Exists(PidFile));
        var kept = Directory.GetFiles(Path.Combine(dataDir, "server", "db", "snapshots"));
        Assert.Equal(2, kept.Count(f => Path.GetFileName(f).StartsWith("scheduled-", StringComparison.Ordinal)));
        Assert.DoesNotContain(kept, f => f.EndsWith(".part", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClusterInit_EtcdClientPortTaken_ServerExitsWithEtcdsReason()
    {
        Assert.True(File.Exists(Etcd), $"{Etcd} is missing: install the etcd-server package (node-packages.txt)");
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((IPEndPoint)holder.LocalEndpoint).Port;
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => KubectlServer.StartAsync(dataDir, [
            "--disable-agent", "--cluster-init", "--etcd-client-port", taken.ToString(CultureInfo.InvariantCulture), "--etcd-peer-port", LoopbackPort.Free().ToString(CultureInfo.InvariantCulture),
        ]));

        // The server's message carries etcd's own reason, not only the path of its log.
        Assert.Contains("etcd exited during start: ", failed.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{taken.ToString(CultureInfo.InvariantCulture)}: bind: address already in use", failed.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(PidFile) && IsRunning(ReadPid()), "the failed member is still running");
    }

    [Fact]
    public async Task ClusterInit_SqliteDataDirectory_MovesEveryObjectOntoEtcdAndMigrateTakesThemBack()
    {
        Assert.True(File.Exists(Etcd), $"{Etcd} is missing: install the etcd-server package (node-packages.txt)");
        var sqlite = Path.Combine(dataDir, "db", "state.db");
        var server = await KubectlServer.StartAsync(dataDir, ["--disable-agent"]);
        try
        {
            for (var i = 0; i < 20; i++)
            {
                (await KubectlAsync("create", "configmap", $"on-sqlite-{i}", "-n", "default", "--from-literal=n=" + i.ToString(CultureInfo.InvariantCulture))).Ok();
            }

            (await KubectlAsync("create", "secret", "generic", "kept", "-n", "default", "--from-literal=password=s3cret")).Ok();
        }
        finally
        {
            await KubectlServer.StopAsync(server);
        }

        // The same data directory with --cluster-init: the SQLite datastore moves into the new member and is set aside.
        var clientPort = LoopbackPort.Free();
        server = await KubectlServer.StartAsync(dataDir, [
            "--disable-agent", "--cluster-init", "--etcd-client-port", clientPort.ToString(CultureInfo.InvariantCulture), "--etcd-peer-port", LoopbackPort.Free().ToString(CultureInfo.InvariantCulture),
        ]);
        try
        {
            etcdPids.Add(ReadPid());
            Assert.False(File.Exists(sqlite), "the SQLite datastore was left in place");
            Assert.True(File.Exists(sqlite + ".migrated-to-etcd"));
            var names = (await KubectlAsync("get", "configmaps", "-n", "default", "-o", "name")).Ok().Output;
            for (var i = 0; i < 20; i++)
            {
                Assert.Contains($"configmap/on-sqlite-{i}", names, StringComparison.Ordinal);
            }

            Assert.Equal("7", (await KubectlAsync("get", "configmap", "on-sqlite-7", "-n", "default", "-o", "jsonpath={.data.n}")).Ok().Output);
            Assert.Equal("czNjcmV0", (await KubectlAsync("get", "secret", "kept", "-n", "default", "-o", "jsonpath={.data.password}")).Ok().Output);
            (await KubectlAsync("create", "configmap", "on-etcd", "-n", "default")).Ok();

            // And back: the running member is copied into a new SQLite file with the server's etcd client certificate.
            var etcdTls = Path.Combine(dataDir, "server", "etcd", "tls");
            var back = await KubesharpAsync(
                "datastore", "migrate", "--from", $"https://127.0.0.1:{clientPort}", "--to", "sqlite://" + sqlite,
                "--datastore-cafile", Path.Combine(dataDir, "server", "tls", "ca.crt"),
                "--datastore-certfile", Path.Combine(etcdTls, "client.crt"), "--datastore-keyfile", Path.Combine(etcdTls, "client.key"));
            Assert.True(back.ExitCode == 0, back.Error);
        }
        finally
        {
            await KubectlServer.StopAsync(server);
        }

        // Without --cluster-init the server serves the SQLite file again, with everything written on etcd.
        server = await KubectlServer.StartAsync(dataDir, ["--disable-agent"]);
        try
        {
            var names = (await KubectlAsync("get", "configmaps", "-n", "default", "-o", "name")).Ok().Output;
            Assert.Contains("configmap/on-sqlite-19", names, StringComparison.Ordinal);
            Assert.Contains("configmap/on-etcd", names, StringComparison.Ordinal);
            Assert.Equal("czNjcmV0", (await KubectlAsync("get", "secret", "kept", "-n", "default", "-o", "jsonpath={.data.password}")).Ok().Output);
        }
        finally
        {
            await KubectlServer.StopAsync(server);
        }
    }

    public void Dispose()
    {
        // Only if the test failed half-way: end the members it saw, by PID, when they are still this test's etcd.
        foreach (var pid in etcdPids.Where(IsRunning))
        {
            try
            {
                if (File.ReadAllText($"/proc/{pid}/cmdline").Contains(dataDir, StringComparison.Ordinal))
                {
                    using var member = Process.GetProcessById(pid);
                    member.Kill();
                    member.WaitForExit(TimeSpan.FromSeconds(10));
                }
            }
            catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException)
            {
            }
        }

        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private int ReadPid() => int.Parse(File.ReadAllText(PidFile).Trim(), CultureInfo.InvariantCulture);

    /// <summary>Alive and not a zombie waiting to be reaped.</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private Task<Kubectl.Result> KubectlAsync(params string[] args) =>
        ChildProcess.RunAsync("kubectl", args, new Dictionary<string, string> { ["KUBECONFIG"] = Path.Combine(dataDir, "kubeconfig.yaml"), ["HOME"] = dataDir });

    private static Task<Kubectl.Result> KubesharpAsync(params string[] args) => ChildProcess.RunKubesharpAsync(args);

}
