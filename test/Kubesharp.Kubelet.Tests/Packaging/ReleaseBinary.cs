using System.Diagnostics;
using System.Text;

namespace Kubesharp.Kubelet.Tests.Packaging;

/// <summary>
/// The release as a user makes it: <c>./kubesharp --publish DIR</c> once per test collection, into a temp directory
/// that goes with the fixture. Also the place that knows where .NET is installed on this machine, so a test can
/// run the binary where none of it can be reached.
/// </summary>
public sealed class ReleaseBinary : IAsyncLifetime
{
    /// <summary>
    /// A bound on publishing, far above what it takes once the libraries are built (eleven seconds when the executable
    /// is unchanged, about a minute when it must compile again) for a busy shared two-core machine.
    /// </summary>
    public static readonly TimeSpan PublishLimit = TimeSpan.FromMinutes(8);

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("ks-release-").FullName;

    public string Executable => Path.Combine(Directory, "bin", "kubesharp");

    public TimeSpan PublishTime { get; private set; }

    public string PublishOutput { get; private set; } = "";

    public static string RepositoryRoot { get; } = FindRoot();

    public async Task InitializeAsync()
    {
        var watch = Stopwatch.StartNew();
        var info = new ProcessStartInfo(Path.Combine(RepositoryRoot, "kubesharp"))
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--publish");
        info.ArgumentList.Add(Path.Combine(Directory, "bin"));
        // The test host's MSBuild settings belong to its own run, not to the publish it starts.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(PublishLimit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"./kubesharp --publish took over {PublishLimit}: {await error}");
        }

        PublishTime = watch.Elapsed;
        PublishOutput = (await output).Trim();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"./kubesharp --publish failed ({process.ExitCode}): {await output}\n{await error}");
        }
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A script that runs its arguments in the mount and network namespaces <c>unshare</c> made for it: every .NET
    /// installation directory is covered by an empty tmpfs, and loopback is up. Start it with <see cref="WithoutDotnet"/>.
    /// </summary>
    public async Task<string> WriteWithoutDotnetScriptAsync()
    {
        var script = new StringBuilder();
        script.AppendLine("#!/bin/sh");
        script.AppendLine("set -eu");
        foreach (var dir in await DotnetDirectoriesAsync())
        {
            script.AppendLine("if [ -d '" + dir + "' ]; then mount -t tmpfs -o size=1m,mode=0755 no-dotnet '" + dir + "'; fi");
        }

        script.AppendLine("ip link set lo up");
        script.AppendLine("exec \"$@\"");
        var path = Path.Combine(Directory, "without-dotnet.sh");
        await File.WriteAllTextAsync(path, script.ToString());
        return path;
    }

    /// <summary>
    /// Starts <paramref name="arguments"/> through the script in new mount and network namespaces with an environment
    /// of PATH (less .NET's directories), HOME and the bundle's extraction directory only: no DOTNET_ROOT.
    /// The returned process is the program itself (unshare and the script exec it), so its PID names its namespaces.
    /// </summary>
    public async Task<ProcessStartInfo> WithoutDotnet(string script, IEnumerable<string> arguments)
    {
        var hidden = await DotnetDirectoriesAsync();
        var info = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--mount", "--net", "--propagation", "private", "/bin/sh", script }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        var path = string.Join(':', (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Where(d => !hidden.Any(h => d == h || d.StartsWith(h + "/", StringComparison.Ordinal))));
        info.Environment.Clear();
        info.Environment["PATH"] = path;
        var home = System.IO.Directory.CreateDirectory(Path.Combine(Directory, "home")).FullName;
        info.Environment["HOME"] = home;
        // The bundle extracts its native libraries (SQLite) here rather than into the real home.
        info.Environment["DOTNET_BUNDLE_EXTRACT_BASE_DIR"] = Path.Combine(home, "extract");
        return info;
    }

    /// <summary>The directories .NET is installed in here: each runtime's root, the usual places, DOTNET_ROOT and dotnet's own.</summary>
    public static async Task<IReadOnlyList<string>> DotnetDirectoriesAsync()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var dirs = new List<string> { "/usr/share/dotnet", "/usr/lib/dotnet", "/usr/local/share/dotnet", Path.Combine(home, ".dotnet") };
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root)
        {
            dirs.Add(root);
        }

        // Runtimes are listed as "Microsoft.NETCore.App 10.0.12 [/usr/share/dotnet/shared/Microsoft.NETCore.App]".
        var info = new ProcessStartInfo("dotnet", ["--list-runtimes"]) { RedirectStandardOutput = true, UseShellExecute = false };
        using (var process = Process.Start(info)!)
        {
            foreach (var line in (await process.StandardOutput.ReadToEndAsync()).Split('\n'))
            {
                var open = line.IndexOf('[', StringComparison.Ordinal);
                if (open >= 0 && line.TrimEnd().EndsWith(']') && Path.GetDirectoryName(Path.GetDirectoryName(line[(open + 1)..line.TrimEnd().LastIndexOf(']')])) is { } runtimeRoot)
                {
                    dirs.Add(runtimeRoot);
                }
            }

            await process.WaitForExitAsync();
        }

        if (Environment.ProcessPath is { } self && Path.GetFileName(self) == "dotnet" && Path.GetDirectoryName(new FileInfo(self).ResolveLinkTarget(true)?.FullName ?? self) is { } hostDir)
        {
            dirs.Add(hostDir);
        }

        return dirs.Select(d => d.TrimEnd('/')).Where(System.IO.Directory.Exists).Distinct(StringComparer.Ordinal).ToList();
    }

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
}
