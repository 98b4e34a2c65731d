using System.Diagnostics;

namespace Kubesharp.Bench.Pods;

/// <summary>Runs host commands (docker CLI, iptables, ip, kill) and removes what runtimes left behind.</summary>
internal static class HostCommand
{
    /// <summary>Runs a command to completion (bounded); returns its exit code and standard output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string file, IEnumerable<string> arguments, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} did not finish in time");
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>Sends SIGTERM to a process this program started, waits, then SIGKILLs it if it is still there.</summary>
    public static async Task StopAsync(Process process, TimeSpan grace)
    {
        if (process.HasExited)
        {
            return;
        }

        await RunAsync("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var limit = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Kills processes whose command line names the directory: shims and runtimes started under it by this program.</summary>
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

    /// <summary>Unmounts everything under the directory (deepest first), deletes the CNI network's NAT rules and chains, the bridge, then the directory.</summary>
    public static async Task RemoveNodeLeftoversAsync(string directory, string networkName, string bridgeName)
    {
        KillProcessesMentioning(directory);
        var prefix = directory.TrimEnd('/') + "/";
        var mounts = File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(mountPoint => mountPoint.StartsWith(prefix, StringComparison.Ordinal))
            .Distinct()
            .OrderByDescending(mountPoint => mountPoint.Length);
        foreach (var mountPoint in mounts)
        {
            await RunAsync("umount", ["-l", mountPoint]);
        }

        var (_, rules, _) = await RunAsync("iptables-save", ["-t", "nat"]);
        var chains = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in rules.Split('\n').Where(r => r.StartsWith("-A ", StringComparison.Ordinal) && r.Contains($"\"{networkName}\"", StringComparison.Ordinal)))
        {
            var jump = rule.IndexOf(" -j ", StringComparison.Ordinal);
            if (jump > 0)
            {
                var target = rule[(jump + 4)..].Split(' ')[0];
                if (target.StartsWith("CNI-", StringComparison.Ordinal) && !target.StartsWith("CNI-HOSTPORT", StringComparison.Ordinal))
                {
                    chains.Add(target);
                }
            }

            await RunAsync("/bin/sh", ["-c", "iptables -t nat -D " + rule[3..]]);
        }

        foreach (var chain in chains)
        {
            await RunAsync("iptables", ["-t", "nat", "-F", chain]);
            await RunAsync("iptables", ["-t", "nat", "-X", chain]);
        }

        await RunAsync("ip", ["link", "del", bridgeName]);
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
