using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Kubesharp.Kubelet.Network.Overlay;
using Kubesharp.Proxy.Iptables;

namespace Kubesharp.Uninstall;

/// <summary>
/// Stops what an install left running and removes what it put on the host, as k3s's killall script: the server,
/// agent, containerd and shim processes whose command line names the data directory, and every process below them
/// (the containers); the mounts under the data directory; the bridges of the CNI networks whose conflists are in the
/// data directory, with the NAT chains the bridge plugin made for them; the DNS link; the overlay device, routes and
/// chains a node recorded (<c>cni/overlay.json</c>); the iptables chains with the
/// install's prefix and the jumps into them. Nothing that does not name this data directory, network or prefix is
/// touched, nor this process or its ancestors.
/// </summary>
internal sealed partial class NodeTeardown(NodeTeardownOptions options, TimeProvider time)
{
    private const int MntDetach = 2;
    private const int SigTerm = 15;
    private const int SigKill = 9;
    private readonly string dataDir = Path.GetFullPath(options.DataDir).TrimEnd('/');
    private readonly HostCommand host = new([]);

    public async Task<NodeTeardownReport> RunAsync(CancellationToken cancellationToken)
    {
        // The networks are read before anything is removed: their conflists name the bridges.
        var networks = Networks();
        var processes = await StopProcessesAsync(cancellationToken).ConfigureAwait(false);
        var mounts = Unmount();
        var chains = await RemoveChainsAsync(networks.Select(n => n.Name).ToList(), cancellationToken).ConfigureAwait(false);
        var links = new List<string>();
        foreach (var (agentDir, overlay) in Overlays())
        {
            // The device, the routes to other nodes' pods and the masquerade and forward chains the node recorded.
            var device = await host.RunAsync(["ip", "link", "show", "dev", overlay.DeviceName], null, cancellationToken).ConfigureAwait(false);
            await new OverlayNetwork(overlay).TearDownAsync(cancellationToken).ConfigureAwait(false);
            OverlayRecord.Delete(agentDir);
            if (device.Succeeded)
            {
                links.Add(overlay.DeviceName);
            }

            chains.Add(overlay.MasqueradeChain);
            chains.Add(overlay.ForwardChain);
        }

        foreach (var link in networks.Select(n => n.Bridge).Append(options.DnsInterface).Where(l => l.Length > 0).Distinct())
        {
            if ((await host.RunAsync(["ip", "link", "del", link], null, cancellationToken).ConfigureAwait(false)).Succeeded)
            {
                links.Add(link);
            }
        }

        return new NodeTeardownReport(processes, mounts, links, chains);
    }

    /// <summary>The overlays the agents in the data directory recorded (DATA for a lone agent, DATA/agent for a server's node).</summary>
    private List<(string AgentDir, OverlayOptions Overlay)> Overlays() =>
        [.. (Directory.Exists(dataDir) ? Directory.EnumerateDirectories(dataDir).Prepend(dataDir) : [])
            .Select(dir => (dir, OverlayRecord.Read(dir)))
            .Where(o => o.Item2 is not null)
            .Select(o => (o.dir, o.Item2!))];

    /// <summary>The CNI networks (name, bridge) of the agents in the data directory, from the conflists they wrote.</summary>
    private List<(string Name, string Bridge)> Networks()
    {
        var networks = new List<(string, string)>();
        // DATA/cni/net.d for a lone agent, DATA/agent/cni/net.d for a server's own node.
        var roots = Directory.Exists(dataDir) ? Directory.EnumerateDirectories(dataDir).Prepend(dataDir) : [];
        foreach (var confDir in roots.Select(r => Path.Combine(r, "cni", "net.d")))
        {
            if (!Directory.Exists(confDir))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(confDir, "*.conflist"))
            {
                try
                {
                    var conflist = JsonNode.Parse(File.ReadAllText(file));
                    var bridge = (conflist?["plugins"] as JsonArray ?? []).FirstOrDefault(p => (string?)p?["type"] == "bridge");
                    if ((string?)conflist?["name"] is { Length: > 0 } name)
                    {
                        networks.Add((name, (string?)bridge?["bridge"] ?? string.Empty));
                    }
                }
                catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
                {
                    // A half-written or foreign file names nothing to remove.
                }
            }
        }

        return networks;
    }

    /// <summary>SIGTERM to the install's processes, then SIGKILL to whatever of them and below them is left; the number ended.</summary>
    private async Task<int> StopProcessesAsync(CancellationToken cancellationToken)
    {
        var spared = Ancestors();
        // The tree is taken before anything is signalled: a shim that exits hands its containers to init, and then
        // nothing would lead to them any more. A process is known by its pid and start time (pids are reused).
        var targets = Targets(Table(), spared);
        foreach (var (pid, info) in targets.Where(t => t.Value.Named))
        {
            _ = Kill(pid, SigTerm);
        }

        var deadline = time.GetUtcNow() + options.GracePeriod;
        // Only the install's own processes get the grace period; a container that ignores SIGTERM is killed below anyway.
        while (targets.Where(t => t.Value.Named).Any(t => Alive(t.Key)) && time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken).ConfigureAwait(false);
        }

        var ended = new HashSet<int>(targets.Keys);
        // Containers may ignore SIGTERM and a dying process can leave new children: repeat until none is left.
        for (var round = 0; round < 10; round++)
        {
            var table = Table();
            var left = Targets(table, spared);
            foreach (var (pid, info) in targets)
            {
                if (table.TryGetValue(pid, out var now) && now.Started == info.Started)
                {
                    left.TryAdd(pid, info);
                }
            }

            left = left.Where(t => Alive(t.Key)).ToDictionary();
            if (left.Count == 0)
            {
                break;
            }

            foreach (var pid in left.Keys)
            {
                _ = Kill(pid, SigKill);
                ended.Add(pid);
            }

            targets = left;
            var gone = time.GetUtcNow() + TimeSpan.FromSeconds(5);
            while (left.Keys.Any(Alive) && time.GetUtcNow() < gone)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken).ConfigureAwait(false);
            }
        }

        return ended.Count;
    }

    /// <summary>The processes naming the data directory and everything below them (the containers, which do not name it).</summary>
    private Dictionary<int, (long Started, bool Named)> Targets(Dictionary<int, ProcessInfo> table, HashSet<int> spared)
    {
        var targets = table.Where(p => !spared.Contains(p.Key) && NamesDataDir(p.Value.CommandLine)).ToDictionary(p => p.Key, p => (p.Value.Started, Named: true));
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var (pid, info) in table)
            {
                if (!spared.Contains(pid) && targets.ContainsKey(info.Parent) && targets.TryAdd(pid, (info.Started, false)))
                {
                    grew = true;
                }
            }
        }

        return targets;
    }

    /// <summary>Whether an argument is the data directory or a path (or <c>--flag=path</c>) inside it.</summary>
    private bool NamesDataDir(IReadOnlyList<string> commandLine) =>
        commandLine.Any(argument =>
        {
            var value = argument.StartsWith('-') && argument.IndexOf('=', StringComparison.Ordinal) is var equals and > 0 ? argument[(equals + 1)..] : argument;
            return value == dataDir || value.StartsWith(dataDir + "/", StringComparison.Ordinal);
        });

    /// <summary>This process and those that started it: the shell or service running killall is not stopped by it.</summary>
    private static HashSet<int> Ancestors()
    {
        var table = Table();
        var ancestors = new HashSet<int>();
        for (var pid = Environment.ProcessId; pid > 1 && ancestors.Add(pid);)
        {
            pid = table.TryGetValue(pid, out var info) ? info.Parent : 0;
        }

        return ancestors;
    }

    private readonly record struct ProcessInfo(int Parent, long Started, IReadOnlyList<string> CommandLine);

    private static Dictionary<int, ProcessInfo> Table()
    {
        var table = new Dictionary<int, ProcessInfo>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // After the command name in parentheses (which may hold spaces): state, parent, … start time (the 22nd field).
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                table[pid] = new ProcessInfo(int.Parse(fields[1], CultureInfo.InvariantCulture), long.Parse(fields[19], CultureInfo.InvariantCulture), commandLine);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }

        return table;
    }

    private static bool Alive(int pid)
    {
        try
        {
            // A zombie has exited; only its parent's wait is missing.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Lazily unmounts every mount point under the data directory, deepest first; the number unmounted.</summary>
    private int Unmount()
    {
        var prefix = dataDir + "/";
        var count = 0;
        for (var round = 0; round < 5; round++)
        {
            var mounts = File.ReadAllLines("/proc/self/mountinfo")
                .Select(line => Unescape(line.Split(' ')[4]))
                .Where(mountPoint => mountPoint.StartsWith(prefix, StringComparison.Ordinal) || mountPoint == dataDir)
                .Distinct()
                .OrderByDescending(mountPoint => mountPoint.Length)
                .ToList();
            if (mounts.Count == 0)
            {
                break;
            }

            count += mounts.Count(mountPoint => Umount2(mountPoint, MntDetach) == 0);
        }

        return count;
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as three octal digits.</summary>
    private static string Unescape(string field) =>
        OctalEscape().Replace(field, m => ((char)Convert.ToInt32(m.Value[1..], 8)).ToString());

    /// <summary>The chains with the install's prefix, and the NAT chains the bridge plugin made for its networks' containers.</summary>
    private async Task<List<string>> RemoveChainsAsync(List<string> networkNames, CancellationToken cancellationToken)
    {
        var prefix = new IptablesChains(options.ChainPrefix);
        var containerChains = new HashSet<string>(StringComparer.Ordinal);
        var removed = new List<string>();
        try
        {
            foreach (var table in new[] { "filter", "nat" })
            {
                var saved = await host.RunAsync(["iptables-save", "-t", table], null, cancellationToken).ConfigureAwait(false);
                foreach (var line in saved.StandardOutput.Split('\n'))
                {
                    if (line.StartsWith(':') && line[1..].Split(' ')[0] is var chain && prefix.Owns(chain))
                    {
                        removed.Add(chain);
                    }

                    // The bridge plugin names the network in the comments of a container chain's rules, quoted.
                    if (line.StartsWith("-A CNI-", StringComparison.Ordinal) && !line.StartsWith("-A CNI-HOSTPORT", StringComparison.Ordinal)
                        && networkNames.Any(n => line.Contains($"\\\"{n}\\\"", StringComparison.Ordinal) || line.Contains($"\"{n}\"", StringComparison.Ordinal)))
                    {
                        containerChains.Add(line[3..].Split(' ')[0]);
                    }
                }
            }

            removed.AddRange(containerChains);
            if (removed.Count > 0)
            {
                await new IptablesRunner(host).RemoveChainsAsync(chain => prefix.Owns(chain) || containerChains.Contains(chain), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No iptables on this machine: no chains either.
        }

        return removed;
    }

    private static int Kill(int pid, int signal) => KillProcess(pid, signal);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillProcess(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);

    [System.Text.RegularExpressions.GeneratedRegex(@"\\[0-7]{3}")]
    private static partial System.Text.RegularExpressions.Regex OctalEscape();
}
