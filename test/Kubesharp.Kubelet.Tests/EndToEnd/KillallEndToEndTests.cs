using System.Diagnostics;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.E2ETests.Support;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// <c>kubesharp killall</c> on an install of its own (own data directory, bridge, CNI network, chain prefix and DNS
/// link) with a <c>kubesharp server</c> process and a node with a container running: afterwards none of its processes,
/// containers, mounts, links or chains is left; then
/// <c>kubesharp uninstall --yes</c> deletes the data directory.
/// </summary>
public sealed class KillallEndToEndTests
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(2);

    [RuntimeFact]
    public async Task Killall_NodeWithRunningContainer_LeavesNoProcessMountLinkOrChain()
    {
        var node = new NodeFixture();
        await node.InitializeAsync();
        var id = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
        var prefix = "KST" + id;
        var dnsLink = "ksd" + id.ToLowerInvariant();
        try
        {
            await node.Client.Resource<Pod>().CreateAsync(new Pod
            {
                ApiVersion = "v1",
                Kind = "Pod",
                Metadata = new ObjectMeta { Name = "sleeper", Namespace = "default" },
                Spec = new PodSpec
                {
                    NodeName = node.NodeName,
                    Containers = [new Container { Name = "app", Image = NodeFixture.BusyboxImage, ImagePullPolicy = "Never", Command = ["sleep", "3600"] }],
                },
            });
            using (var timeout = new CancellationTokenSource(WaitLimit))
            {
                while ((await node.Client.Resource<Pod>().GetAsync("default", "sleeper", timeout.Token)).Status?.Phase != "Running")
                {
                    await Task.Delay(200, timeout.Token);
                }
            }

            // What a proxy and DNS of this install put on the host: chains with its prefix, a jump into one, its DNS link.
            await RunAsync("iptables", "-t", "nat", "-N", prefix + "-SERVICES");
            await RunAsync("iptables", "-t", "nat", "-A", "OUTPUT", "-m", "comment", "--comment", "kubesharp", "-j", prefix + "-SERVICES");
            await RunAsync("iptables", "-t", "filter", "-N", prefix + "-FORWARD");
            await RunAsync("ip", "link", "add", dnsLink, "type", "dummy");

            // A control plane of the same install, as its own process.
            using var server = await StartServerAsync(Path.Combine(node.Root, "server-process"));

            // The agent stops as after a crash: shims and containers keep running, and so do the network and mounts.
            await node.StopAgentAsync();
            var containers = ProcessesBelowShims(node.Root);
            Assert.NotEmpty(containers);
            Assert.NotEmpty(MountsUnder(node.Root));
            Assert.Equal(0, (await RunAsync("ip", "link", "show", node.Options.BridgeName)).ExitCode);

            var exit = await KubesharpCommand.RunAsync(["killall", "--data-dir", node.Root, "--chain-prefix", prefix, "--dns-interface", dnsLink]);

            Assert.Equal(0, exit);
            Assert.True(server.WaitForExit(TimeSpan.FromSeconds(30)), "the kubesharp server process still runs");
            Assert.All(containers, pid => Assert.False(Directory.Exists($"/proc/{pid}") && !IsZombie(pid), $"container process {pid} still runs"));
            Assert.Empty(ProcessesNaming(node.Root));
            Assert.Empty(MountsUnder(node.Root));
            Assert.NotEqual(0, (await RunAsync("ip", "link", "show", node.Options.BridgeName)).ExitCode);
            Assert.NotEqual(0, (await RunAsync("ip", "link", "show", dnsLink)).ExitCode);
            var rules = (await RunAsync("iptables-save")).Output;
            Assert.DoesNotContain(prefix + "-", rules, StringComparison.Ordinal);
            Assert.DoesNotContain($"\\\"{node.Options.NetworkName}\\\"", rules, StringComparison.Ordinal);

            // uninstall wants to be sure, then removes the data directory.
            Assert.Equal(1, await KubesharpCommand.RunAsync(["uninstall", "--data-dir", node.Root, "--chain-prefix", prefix, "--dns-interface", dnsLink]));
            Assert.True(Directory.Exists(node.Root));
            Assert.Equal(0, await KubesharpCommand.RunAsync(["uninstall", "--yes", "--data-dir", node.Root, "--chain-prefix", prefix, "--dns-interface", dnsLink]));
            Assert.False(Directory.Exists(node.Root));
            Directory.CreateDirectory(node.Root);
        }
        finally
        {
            // Only what this test made, should killall have missed it.
            await RunAsync("iptables", "-t", "nat", "-D", "OUTPUT", "-m", "comment", "--comment", "kubesharp", "-j", prefix + "-SERVICES");
            await RunAsync("iptables", "-t", "nat", "-X", prefix + "-SERVICES");
            await RunAsync("iptables", "-t", "filter", "-X", prefix + "-FORWARD");
            await RunAsync("ip", "link", "del", dnsLink);
            await node.DisposeAsync();
        }
    }

    /// <summary>Starts <c>kubesharp server</c> (control plane only, loopback, a free port) and waits until it is ready.</summary>
    private static async Task<Process> StartServerAsync(string dataDir)
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        var info = KubesharpExecutable.StartInfo("server", "--disable-agent", "--data-dir", dataDir, "--https-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var process = Process.Start(info)!;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("ready at", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("kubesharp server exited before it was ready"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(WaitLimit);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }

        return process;
    }

    /// <summary>Processes whose parent names the directory (a shim) and which do not themselves: the containers.</summary>
    private static List<int> ProcessesBelowShims(string root)
    {
        var naming = ProcessesNaming(root).ToHashSet();
        var below = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && !naming.Contains(pid) && Parent(pid) is { } parent && naming.Contains(parent))
            {
                below.Add(pid);
            }
        }

        return below;
    }

    private static List<int> ProcessesNaming(string root)
    {
        var pids = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(directory), out var pid) && pid != Environment.ProcessId && !IsZombie(pid)
                    && File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0').Any(a => a == root || a.StartsWith(root + "/", StringComparison.Ordinal)))
                {
                    pids.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }

        return pids;
    }

    private static int? Parent(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] == 'Z';
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static List<string> MountsUnder(string root) =>
        [.. File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(root + "/", StringComparison.Ordinal))];

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output);
    }
}
