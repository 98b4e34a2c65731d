using System.Diagnostics;
using Kubesharp.E2ETests.Support;
using Kubesharp.Prerequisites;

namespace Kubesharp.Kubelet.Tests.Packaging;

/// <summary>
/// <c>kubesharp check-config</c>: the built executable on this machine (which runs the node tests, so it has what a node
/// needs), a package list with a missing package, and kernels without what a node needs, read from a made-up root.
/// </summary>
public sealed class CheckConfigTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("ks-check-config-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task CheckConfig_ThisMachine_PassesWithEverySection()
    {
        var (exitCode, output) = await RunAsync("check-config");

        Assert.True(exitCode == 0, output);
        foreach (var section in (string[])["System:", "Kernel:", "Control groups:", "Packages:"])
        {
            Assert.Contains(section + "\n", output, StringComparison.Ordinal);
        }

        Assert.Contains("ok    containerd (/usr/bin/containerd): installed", output, StringComparison.Ordinal);
        Assert.EndsWith("STATUS: pass\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConfig_PackageMissing_FailsAndSaysHowToInstallIt()
    {
        var list = Path.Combine(root, "packages.txt");
        await File.WriteAllTextAsync(list, "# a list\ncontainerd /usr/bin/containerd\nkubesharp-absent /usr/bin/kubesharp-absent-tool   # not a real package\n");

        var (exitCode, output) = await RunAsync("check-config", "--node-packages", list);

        Assert.Equal(1, exitCode);
        Assert.Contains("FAIL  kubesharp-absent (/usr/bin/kubesharp-absent-tool): missing: apt-get install kubesharp-absent", output, StringComparison.Ordinal);
        Assert.Contains("STATUS: 1 required item is missing", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_KernelWithoutFeatures_ReportsMissingOrLoadableModules()
    {
        Write("proc/sys/kernel/osrelease", "6.1.0-test\n");
        Write("proc/filesystems", "nodev\tsysfs\nnodev\tproc\n");
        Write("proc/sys/net/ipv4/ip_forward", "0\n");
        // cgroup v2 without the pids controller.
        Write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory\n");
        // overlay is not loaded, but its module is there.
        Write("lib/modules/6.1.0-test/kernel/fs/overlayfs/overlay.ko.xz", "");
        Write("usr/bin/containerd", "");

        var checks = new NodePrerequisites(root).Check([("containerd", "/usr/bin/containerd")]);

        PrerequisiteCheck Find(string name) => Assert.Single(checks, c => c.Name == name);
        Assert.Equal(("module available (modprobe overlay)", true), (Find("overlay filesystem").Found, Find("overlay filesystem").Ok));
        Assert.False(Find("bridge").Ok);
        Assert.False(Find("bridge netfilter (br_netfilter)").Ok);
        Assert.False(Find("connection tracking (nf_conntrack)").Ok);
        Assert.Equal(("off (the node turns it on)", false), (Find("IPv4 forwarding").Found, Find("IPv4 forwarding").Required));
        Assert.True(Find("cpu (v2)").Ok);
        Assert.True(Find("memory (v2)").Ok);
        Assert.Equal(("missing", false), (Find("pids (v2)").Found, Find("pids (v2)").Ok));
        Assert.True(Find("containerd (/usr/bin/containerd)").Ok);
    }

    [Fact]
    public void Check_CgroupV1_ReadsEnabledHierarchies()
    {
        Write("proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t2\t1\nmemory\t4\t74\t1\npids\t0\t1\t1\n");

        var checks = new NodePrerequisites(root).Check([]);

        Assert.True(Assert.Single(checks, c => c.Name == "cpu (v1)").Ok);
        Assert.True(Assert.Single(checks, c => c.Name == "memory (v1)").Ok);
        // Enabled in the kernel but mounted nowhere (hierarchy 0): pods could not be limited by it.
        Assert.False(Assert.Single(checks, c => c.Name == "pids (v1)").Ok);
    }

    [Fact]
    public void BuiltInPackages_AreTheLaunchersList()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory!.FullName, "node-packages.txt")))
        {
            directory = directory.Parent;
        }

        Assert.Equal(NodePrerequisites.ParsePackages(File.ReadAllText(Path.Combine(directory.FullName, "node-packages.txt"))), NodePrerequisites.BuiltInPackages());
        Assert.Contains(("containerd", "/usr/bin/containerd"), NodePrerequisites.BuiltInPackages());
    }

    private void Write(string relative, string content)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        using var process = Process.Start(KubesharpExecutable.StartInfo(args))!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }
}
