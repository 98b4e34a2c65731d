using System.Diagnostics;
using Kubesharp.Kubelet.Images;
using Kubesharp.Kubelet.Runtime;

namespace Kubesharp.Kubelet.Tests.Packaging;

/// <summary>
/// The packages a node needs are listed once (node-packages.txt): the launcher installs from it, test.sh installs
/// it plus test-only packages, and it names every file the node agent runs.
/// </summary>
public sealed class NodePackagesTests
{
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "node-packages.txt")) && File.Exists(Path.Combine(dir.FullName, "kubesharp")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (node-packages.txt) is not above the test's directory");
    }

    private static async Task<(int ExitCode, string[] Lines)> RunAsync(string program, string[] args, Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? [])
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} exited with {process.ExitCode}: {await error}");
        return (process.ExitCode, (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>The file column of node-packages.txt by package.</summary>
    private static Dictionary<string, string> ListedFiles() =>
        Listed("node-packages.txt").ToDictionary(fields => fields[0], fields => fields.Length > 1 ? fields[1] : "", StringComparer.Ordinal);

    /// <summary>The packages of build-packages.txt, what the launcher's native compile needs.</summary>
    private static string[] BuildPackages() => [.. Listed("build-packages.txt").Select(fields => fields[0])];

    private static IEnumerable<string[]> Listed(string file) =>
        File.ReadLines(Path.Combine(Root, file))
            .Select(line => line.Split('#')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length > 0);

    [Fact]
    public async Task Launcher_PrintsTheListedPackages_AndTestShInstallsThemToo()
    {
        var listed = ListedFiles().Keys.ToArray();

        var (_, launcher) = await RunAsync("bash", ["kubesharp", "--print-node-packages"]);
        var (_, suite) = await RunAsync("bash", ["test.sh", "--print-packages"]);

        Assert.Equal(listed, launcher);
        Assert.Contains("busybox-static", launcher);
        Assert.Contains("containerd", launcher);
        Assert.Empty(launcher.Except(suite));
        Assert.Contains("etcd-server", suite);
        Assert.Contains("python3-kubernetes", suite);
        Assert.DoesNotContain("python3-kubernetes", launcher);
        // The native compile's packages are the launcher's (installed before it compiles), not a node's.
        Assert.Equal(["clang", "zlib1g-dev"], BuildPackages());
        Assert.Empty(BuildPackages().Except(suite));
        Assert.Empty(BuildPackages().Intersect(launcher));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LauncherInstallStep_DryRun_ChecksEachListedPackageWithDpkgAndStartsNothing(bool jit)
    {
        // The native build (the default) needs the build packages too; the JIT build only a node's.
        string[] listed = [.. ListedFiles().Keys, .. jit ? [] : BuildPackages()];

        Dictionary<string, string> environment = new() { ["KUBESHARP_INSTALL_DRY_RUN"] = "1" };
        if (jit)
        {
            environment["KUBESHARP_JIT"] = "1";
        }

        var (_, lines) = await RunAsync("bash", ["kubesharp", "server", "--data-dir", "/nonexistent"], environment);

        var states = lines.Select(l => l.Split(' ')).ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
        Assert.Equal(listed, states.Keys);
        foreach (var (package, state) in states)
        {
            Assert.Equal(DpkgKnows(package) ? "installed" : "missing", state);
        }
    }

    [Fact]
    public void ListedFiles_CoverWhatTheNodeAgentRuns()
    {
        var files = ListedFiles().Values.ToHashSet(StringComparer.Ordinal);
        var containerd = new ContainerdOptions { DataDir = "/var/lib/kubesharp/agent" };

        Assert.Contains(OciImageBuilder.DefaultBusyboxPath, files);
        Assert.Contains(containerd.ContainerdPath, files);
        Assert.Contains(Path.Combine(containerd.CniBinDir, "bridge"), files);
        Assert.Equal("/bin/busybox", ListedFiles()["busybox-static"]);
    }

    [Fact]
    public async Task ProvidersOfTheNodesFiles_AreAllListed()
    {
        if (!File.Exists("/usr/bin/dpkg"))
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "CI runs on Debian: dpkg is missing");
            return;
        }

        var listed = ListedFiles();
        var containerd = new ContainerdOptions { DataDir = "/var/lib/kubesharp/agent" };
        string[] used =
        [
            OciImageBuilder.DefaultBusyboxPath, containerd.ContainerdPath, containerd.CtrPath,
            .. new[] { "bridge", "host-local", "portmap", "loopback" }.Select(plugin => Path.Combine(containerd.CniBinDir, plugin)),
            .. listed.Values,
        ];
        foreach (var file in used.Where(File.Exists))
        {
            // A file of the node must come from a package the list names (symlinks such as iptables' alternatives resolved).
            var resolved = new FileInfo(file).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? file;
            var (_, owners) = await RunAsync("bash", ["-c", "dpkg -S \"$1\" 2>/dev/null || dpkg -S \"$2\"", "_", file, resolved]);
            var packages = owners.SelectMany(line => line.Split(':')[0].Split(',', StringSplitOptions.TrimEntries)).ToList();
            Assert.True(packages.Any(listed.ContainsKey), $"{file} comes from {string.Join(", ", packages)}, which node-packages.txt does not name");
        }
    }

    private static bool DpkgKnows(string package)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", "dpkg -s \"$1\" >/dev/null 2>&1", "_", package]) { UseShellExecute = false })!;
        process.WaitForExit(TimeSpan.FromSeconds(30));
        return process.ExitCode == 0;
    }
}
