using Kubesharp.Kubelet.Tests.Support;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Grpc.Core;
using Kubesharp.Cri;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.E2ETests.Support;
using Kubesharp.Kubelet.Images;
using Kubesharp.Kubelet.Runtime;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// Three machines on one link, made of network namespaces of the test: a "switch" namespace holding a bridge, and a
/// server and two agent namespaces, each wired to it by a veth pair (192.168.250.1, .2, .3/24) like hosts on one
/// Ethernet segment. The built <c>kubesharp</c> executable runs in them as a user runs it on each machine: its own data
/// dir, its own containerd (socket, root, state and config under that dir) and its own mount namespace whose
/// <c>/sys</c> belongs to the node's network. Disposing stops the pods through each containerd, ends the processes the
/// test started by their PIDs and deletes the namespaces (with every link, route and rule in them) and the directory.
/// </summary>
internal sealed class MultiNodeCluster : IAsyncDisposable
{
    public const string BusyboxImage = NodeFixture.BusyboxImage;

    public const string ServerAddress = "192.168.250.1";

    /// <summary>
    /// <c>ip netns exec</c> mounts a fresh sysfs and with it hides the host's cgroup mounts, which runc needs: this
    /// script enters the network namespace, makes a mount namespace of its own, keeps the cgroup tree aside, mounts the
    /// namespace's sysfs and puts the cgroup tree back, then becomes the program (same PID).
    /// </summary>
    private const string NodeScript =
        "set -eu\n" +
        "keep=\"$1\"; shift\n" +
        "mount --rbind /sys/fs/cgroup \"$keep\"\n" +
        "mount -t sysfs sysfs /sys\n" +
        "mount --move \"$keep\" /sys/fs/cgroup\n" +
        "exec \"$@\"\n";

    private static readonly TimeSpan CommandLimit = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(45);

    private readonly string id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
    private readonly List<string> namespaces = [];
    private readonly List<string> hostLinks = [];
    private readonly List<NodeProcess> processes = [];

    public MultiNodeCluster()
    {
        Root = Directory.CreateTempSubdirectory("ksmn-").FullName;
        Switch = $"ksmn-sw-{id}";
        Server = new MachineNode($"ksmn-s-{id}", ServerAddress, Path.Combine(Root, "server"), Path.Combine(Root, "server", "agent"));
        Agent1 = new MachineNode($"ksmn-a1-{id}", "192.168.250.2", Path.Combine(Root, "agent1"), Path.Combine(Root, "agent1"));
        Agent2 = new MachineNode($"ksmn-a2-{id}", "192.168.250.3", Path.Combine(Root, "agent2"), Path.Combine(Root, "agent2"));
    }

    public string Root { get; }

    public string Switch { get; }

    public MachineNode Server { get; }

    public MachineNode Agent1 { get; }

    public MachineNode Agent2 { get; }

    public IReadOnlyList<MachineNode> Machines => [Server, Agent1, Agent2];

    /// <summary>The executable the tests run (<see cref="KubesharpExecutable.File"/>).</summary>
    public static string Executable => KubesharpExecutable.File;

    public string ServerUrl => $"https://{ServerAddress}:6443";

    public string Kubeconfig => Path.Combine(Server.DataDir, "kubeconfig.yaml");

    /// <summary>Builds the link and the machines' namespaces, and puts the busybox test image where each node imports archives from.</summary>
    public async Task CreateAsync()
    {
        await AddNamespaceAsync(Switch);
        await RunAsync("ip", "-n", Switch, "link", "add", "br0", "type", "bridge");
        await RunAsync("ip", "-n", Switch, "link", "set", "br0", "up");
        var index = 0;
        foreach (var machine in Machines)
        {
            await AddNamespaceAsync(machine.Namespace);

            // Made on the host for an instant, then moved; the cleanup deletes a host end left behind.
            var nodeEnd = $"ksmv{id}{index}";
            var switchEnd = $"ksmw{id}{index}";
            hostLinks.Add(nodeEnd);
            hostLinks.Add(switchEnd);
            await RunAsync("ip", "link", "add", nodeEnd, "type", "veth", "peer", "name", switchEnd);
            await RunAsync("ip", "link", "set", switchEnd, "netns", Switch);
            await RunAsync("ip", "link", "set", nodeEnd, "netns", machine.Namespace);
            hostLinks.Remove(nodeEnd);
            hostLinks.Remove(switchEnd);
            await RunAsync("ip", "-n", Switch, "link", "set", switchEnd, "master", "br0", "up");
            await RunAsync("ip", "-n", machine.Namespace, "link", "set", nodeEnd, "name", "eth0");
            await RunAsync("ip", "-n", machine.Namespace, "addr", "add", machine.Address + "/24", "dev", "eth0");
            await RunAsync("ip", "-n", machine.Namespace, "link", "set", "eth0", "up");
            index++;
        }

        // Air-gap style: each node imports the archives of its images folder before it registers.
        var busybox = await OciImageBuilder.BuildBusyboxAsync(BusyboxImage, [], ["sh"]);
        foreach (var machine in Machines)
        {
            Directory.CreateDirectory(Path.Combine(machine.NodeDir, "images"));
            await OciImageBuilder.WriteOciArchiveAsync(Path.Combine(machine.NodeDir, "images", "busybox.oci.tar"), [busybox]);
        }
    }

    /// <summary>Starts <c>kubesharp ARGS</c> on <paramref name="machine"/>; the process is the executable itself.</summary>
    public NodeProcess Start(MachineNode machine, string name, params string[] arguments)
    {
        var keep = Directory.CreateDirectory(Path.Combine(Root, "cgroup-" + name)).FullName;
        var info = new ProcessStartInfo("nsenter")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { $"--net=/run/netns/{machine.Namespace}", "unshare", "--mount", "--propagation", "slave", "/bin/sh", "-c", NodeScript, "sh", keep, Executable }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        var process = new NodeProcess(name, Process.Start(info) ?? throw new InvalidOperationException($"could not start {name}"));
        processes.Add(process);
        return process;
    }

    /// <summary>Runs <c>kubesharp ARGS</c> on <paramref name="machine"/> to its end.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> RunKubesharpAsync(MachineNode machine, params string[] arguments) =>
        InNamespaceAsync(machine, [Executable, .. arguments]);

    /// <summary>kubectl with the server's admin kubeconfig, run on the server's machine (where the API is reachable).</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> KubectlAsync(params string[] arguments) =>
        InNamespaceAsync(Server, ["kubectl", "--kubeconfig", Kubeconfig, "--cache-dir", Path.Combine(Root, "kubectl-cache"), .. arguments]);

    public async Task<JsonNode> KubectlJsonAsync(params string[] arguments)
    {
        var (exitCode, stdout, stderr) = await KubectlAsync([.. arguments, "-o", "json"]);
        Assert.True(exitCode == 0, $"kubectl {string.Join(' ', arguments)}: {stderr}");
        return JsonNode.Parse(stdout)!;
    }

    public async Task ApplyAsync(string manifest)
    {
        var file = Path.Combine(Root, $"manifest-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, manifest);
        var (exitCode, _, stderr) = await KubectlAsync("apply", "-f", file);
        Assert.True(exitCode == 0, $"kubectl apply: {stderr}\n{manifest}");
    }

    /// <summary>What the logs of the processes say, for a failure's message.</summary>
    public string Logs(int lines = 40) => string.Join('\n', processes.Select(p => $"--- {p.Name} (exit {(p.Process.HasExited ? p.Process.ExitCode.ToString(CultureInfo.InvariantCulture) : "-")}):\n{p.Tail(lines)}"));

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Pods first, through the API and then each node's containerd, so no container outlives its node.
            await KubectlAsync("delete", "namespaces", "-l", "kubesharp.test/multinode", "--wait=true", "--timeout=60s");
            foreach (var machine in Machines)
            {
                await StopSandboxesAsync(machine);
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or TimeoutException or OperationCanceledException or RpcException or HttpRequestException)
        {
        }
        finally
        {
            // Agents before the server, as machines leave a cluster.
            foreach (var process in Enumerable.Reverse(processes))
            {
                await process.StopAsync(StopLimit);
            }

            // Shims of containers a failed step left (their command lines name the data dirs).
            HostCleanup.KillProcessesMentioning(Root);
            HostCleanup.UnmountUnder(Root);
            foreach (var link in hostLinks)
            {
                await ExternalCommand.RunAsync("ip", ["link", "del", link], CancellationToken.None);
            }

            foreach (var ns in namespaces)
            {
                await ExternalCommand.RunAsync("ip", ["netns", "del", ns], CancellationToken.None);
            }

            foreach (var process in processes)
            {
                process.SaveLog(Path.Combine(Path.GetTempPath(), $"kubesharp-multinode-{process.Name}.log"));
                process.Dispose();
            }

            Directory.Delete(Root, recursive: true);
        }
    }

    private static async Task StopSandboxesAsync(MachineNode machine)
    {
        var socket = Path.Combine(machine.NodeDir, "containerd", "containerd.sock");
        if (!File.Exists(socket))
        {
            return;
        }

        using var channel = UnixSocketChannel.Create(socket);
        var runtime = new CriRuntimeClient(channel);
        using var limit = new CancellationTokenSource(CommandLimit);
        await PodSandboxCleanup.RemoveAllAsync(runtime, limit.Token);
    }

    private async Task AddNamespaceAsync(string name)
    {
        await RunAsync("ip", "netns", "add", name);
        namespaces.Add(name);
        await RunAsync("ip", "-n", name, "link", "set", "lo", "up");
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> InNamespaceAsync(MachineNode machine, string[] arguments)
    {
        using var limit = new CancellationTokenSource(CommandLimit);
        return await ExternalCommand.RunAsync("ip", ["netns", "exec", machine.Namespace, .. arguments], limit.Token);
    }

    private static async Task RunAsync(params string[] arguments)
    {
        var (exitCode, _, stderr) = await ExternalCommand.RunAsync(arguments[0], arguments.Skip(1), CancellationToken.None);
        Assert.True(exitCode == 0, $"{string.Join(' ', arguments)}: {stderr}");
    }

    /// <summary>A machine: its network namespace, its address on the link, its data dir and the node's own directory in it.</summary>
    internal sealed record MachineNode(string Namespace, string Address, string DataDir, string NodeDir);

    /// <summary>A kubesharp process the test started, with its output kept for failure messages.</summary>
    internal sealed class NodeProcess : IDisposable
    {
        private readonly StringBuilder output = new();
        private readonly Lock gate = new();

        public NodeProcess(string name, Process process)
        {
            Name = name;
            Process = process;
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Name { get; }

        public Process Process { get; }

        public string Output
        {
            get
            {
                lock (gate)
                {
                    return output.ToString();
                }
            }
        }

        public string Tail(int lines) => string.Join('\n', Output.Split('\n').TakeLast(lines));

        /// <summary>Waits until the process has printed <paramref name="text"/>; fails when it exits first or the limit passes.</summary>
        public async Task WaitForOutputAsync(string text, TimeSpan limit)
        {
            var watch = Stopwatch.StartNew();
            while (!Output.Contains(text, StringComparison.Ordinal))
            {
                if (Process.HasExited)
                {
                    Assert.Fail($"{Name} exited ({Process.ExitCode}) before printing \"{text}\":\n{Tail(60)}");
                }

                if (watch.Elapsed > limit)
                {
                    Assert.Fail($"{Name} did not print \"{text}\" within {limit}:\n{Tail(60)}");
                }

                await Task.Delay(200);
            }
        }

        /// <summary>SIGTERM, as a service manager stops it; killed (with what it started) only when it does not end in time.</summary>
        public async Task StopAsync(TimeSpan limit)
        {
            if (Process.HasExited)
            {
                return;
            }

            using (var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(limit);
            try
            {
                await Process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Process.Kill(entireProcessTree: true);
                await Process.WaitForExitAsync();
            }
        }

        public void SaveLog(string path) => File.WriteAllText(path, Output);

        public void Dispose() => Process.Dispose();

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (gate)
            {
                output.AppendLine(line);
            }
        }
    }
}
