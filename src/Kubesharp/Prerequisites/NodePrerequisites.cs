using System.Globalization;
using System.Reflection;

namespace Kubesharp.Prerequisites;

/// <summary>One finding of <see cref="NodePrerequisites"/>: what was checked, what was found, and whether a node can run without it.</summary>
internal sealed record PrerequisiteCheck(string Section, string Name, string Found, bool Ok, bool Required = true);

/// <summary>
/// What a node needs from its machine, read from the kernel's own files (<c>/proc</c>, <c>/sys</c>) and the package list
/// the launcher installs: overlay filesystem, bridge and bridge netfilter, connection tracking, IP forwarding, the
/// cgroup controllers pods are limited with, and each package's file. <c>kubesharp check-config</c> prints it.
/// </summary>
internal sealed class NodePrerequisites(string root = "/")
{
    /// <summary>The launcher's package list (node-packages.txt), built into the executable.</summary>
    public static IReadOnlyList<(string Package, string File)> BuiltInPackages()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("node-packages.txt")
            ?? throw new InvalidOperationException("node-packages.txt is not built into the executable.");
        using var reader = new StreamReader(stream);
        return ParsePackages(reader.ReadToEnd());
    }

    /// <summary>Reads a package list: a package and a file it installs per line, <c>#</c> comments.</summary>
    public static IReadOnlyList<(string Package, string File)> ParsePackages(string text) =>
        [.. text.Split('\n')
            .Select(line => line.Split('#')[0].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 2)
            .Select(fields => (fields[0], fields[1]))];

    public IReadOnlyList<PrerequisiteCheck> Check(IReadOnlyList<(string Package, string File)> packages)
    {
        var checks = new List<PrerequisiteCheck>();
        var release = Read("proc/sys/kernel/osrelease")?.Trim() ?? "unknown";
        checks.Add(new("System", "kernel", release, true, Required: false));
        checks.Add(Kernel("overlay filesystem", Read("proc/filesystems")?.Split('\n').Any(l => l.EndsWith("\toverlay", StringComparison.Ordinal)) == true, "overlay", release));
        checks.Add(Kernel("bridge", Exists("sys/module/bridge") || Exists("proc/sys/net/bridge"), "bridge", release));
        checks.Add(Kernel("bridge netfilter (br_netfilter)", Exists("proc/sys/net/bridge/bridge-nf-call-iptables"), "br_netfilter", release));
        checks.Add(Kernel("connection tracking (nf_conntrack)", Exists("proc/sys/net/netfilter/nf_conntrack_max") || Exists("sys/module/nf_conntrack"), "nf_conntrack", release));
        var forwarding = Read("proc/sys/net/ipv4/ip_forward")?.Trim();
        // The node turns it on when it starts; off now is only worth knowing.
        checks.Add(new("Kernel", "IPv4 forwarding", forwarding == "1" ? "on" : "off (the node turns it on)", true, Required: false));
        checks.AddRange(Cgroups());
        foreach (var (package, file) in packages)
        {
            var installed = Exists(file.TrimStart('/'));
            checks.Add(new("Packages", $"{package} ({file})", installed ? "installed" : $"missing: apt-get install {package}", installed));
        }

        return checks;
    }

    private PrerequisiteCheck Kernel(string name, bool enabled, string module, string release)
    {
        if (enabled)
        {
            return new("Kernel", name, "enabled", true);
        }

        // Not loaded yet, but the module is there to be loaded on use (or by modprobe).
        var modules = Path.Combine(root, "lib", "modules", release);
        var available = Directory.Exists(modules) && Directory.EnumerateFiles(modules, module + ".ko*", SearchOption.AllDirectories).Any();
        return new("Kernel", name, available ? "module available (modprobe " + module + ")" : "missing", available);
    }

    private IEnumerable<PrerequisiteCheck> Cgroups()
    {
        string[] needed = ["cpu", "memory", "pids"];
        if (Read("sys/fs/cgroup/cgroup.controllers") is { } controllers)
        {
            var enabled = controllers.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            foreach (var controller in needed)
            {
                yield return new("Control groups", $"{controller} (v2)", enabled.Contains(controller) ? "enabled" : "missing", enabled.Contains(controller));
            }

            yield break;
        }

        // cgroup v1: /proc/cgroups lists each controller with its hierarchy and whether it is enabled.
        var v1 = (Read("proc/cgroups") ?? string.Empty).Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line.Split('\t'))
            .Where(fields => fields.Length >= 4)
            .ToDictionary(fields => fields[0], fields => fields[3] == "1" && int.Parse(fields[1], CultureInfo.InvariantCulture) > 0, StringComparer.Ordinal);
        foreach (var controller in needed)
        {
            var ok = v1.GetValueOrDefault(controller);
            yield return new("Control groups", $"{controller} (v1)", ok ? "enabled" : "missing", ok);
        }
    }

    private string? Read(string relative)
    {
        try
        {
            return File.ReadAllText(Path.Combine(root, relative));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private bool Exists(string relative) => File.Exists(Path.Combine(root, relative)) || Directory.Exists(Path.Combine(root, relative));
}
