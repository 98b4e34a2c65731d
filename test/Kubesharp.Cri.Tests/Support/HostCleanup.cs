using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Kubesharp.Cri.Tests.Support;

/// <summary>Removes what a test runtime left on the host: processes, mounts, the bridge and its NAT rules.</summary>
public static class HostCleanup
{
    private const int MntDetach = 2;

    /// <summary>
    /// Removes what a test's own node (containerd and its shims under <paramref name="root"/>, pods on the CNI network
    /// <paramref name="networkName"/> behind <paramref name="bridgeName"/>) leaves on the host, and its directory.
    /// </summary>
    public static async Task RemoveNodeAsync(string root, string networkName, string bridgeName)
    {
        KillProcessesMentioning(root);
        UnmountUnder(root);
        await DeleteNatRulesAsync(networkName);
        await DeleteLinkAsync(bridgeName);
        Directory.Delete(root, recursive: true);
    }

    /// <summary>Kills processes whose command line names the directory (containerd shims started for the test).</summary>
    public static void KillProcessesMentioning(string directory)
    {
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(directory, StringComparison.Ordinal))
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
            }
        }
    }

    /// <summary>Lazily unmounts every mount point under the directory, deepest first.</summary>
    public static void UnmountUnder(string directory)
    {
        var prefix = directory.TrimEnd('/') + "/";
        var mounts = File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(mountPoint => mountPoint.StartsWith(prefix, StringComparison.Ordinal))
            .Distinct()
            .OrderByDescending(mountPoint => mountPoint.Length);
        foreach (var mountPoint in mounts)
        {
            _ = Umount2(mountPoint, MntDetach);
        }
    }

    public static async Task DeleteLinkAsync(string name)
    {
        await RunAsync("ip", "link", "del", name);
    }

    /// <summary>Deletes NAT rules that mention the CNI network (left only if a sandbox was not torn down) and their chains.</summary>
    public static async Task DeleteNatRulesAsync(string networkName)
    {
        var (_, rules) = await RunAsync("iptables-save", "-t", "nat");
        var chains = new HashSet<string>(StringComparer.Ordinal);
        // The bridge plugin names the network in each rule's comment, quoted inside the quoted comment: name: \"NET\".
        foreach (var rule in rules.Split('\n').Where(r => r.StartsWith("-A ", StringComparison.Ordinal) &&
            (r.Contains($"\\\"{networkName}\\\"", StringComparison.Ordinal) || r.Contains($"\"{networkName}\"", StringComparison.Ordinal))))
        {
            // A rule inside a container's own chain goes with its chain.
            var chain = rule.Split(' ')[1];
            if (IsContainerChain(chain))
            {
                chains.Add(chain);
                continue;
            }

            var jump = rule.IndexOf(" -j ", StringComparison.Ordinal);
            if (jump > 0 && rule[(jump + 4)..].Split(' ')[0] is var target && IsContainerChain(target))
            {
                chains.Add(target);
            }

            await RunAsync("/bin/sh", "-c", "iptables -t nat -D " + rule[3..]);
        }

        foreach (var chain in chains)
        {
            await RunAsync("iptables", "-t", "nat", "-F", chain);
            await RunAsync("iptables", "-t", "nat", "-X", chain);
        }
    }

    private static bool IsContainerChain(string chain) =>
        chain.StartsWith("CNI-", StringComparison.Ordinal) && !chain.StartsWith("CNI-HOSTPORT", StringComparison.Ordinal);

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (-1, "");
        }
    }

    [DllImport("libc", EntryPoint = "umount2", SetLastError = true)]
    private static extern int Umount2(string target, int flags);
}
