using System.Diagnostics;
using Kubesharp.Cri.Tests.Support;
using Xunit.Abstractions;

namespace Kubesharp.Kubelet.Tests.Packaging;

/// <summary>
/// The one-file release (<c>./kubesharp --publish</c>) runs where .NET cannot be found: in a mount namespace with
/// every .NET directory covered by an empty tmpfs, without DOTNET_ROOT, and in a network namespace of its own, so the
/// node's bridge, chains, DNS link and ports (6443, 10250, 80, 443) are its own and go with it.
/// </summary>
[Collection(ReleaseCollection.Name)]
public sealed class ReleaseBinaryEndToEndTests(ReleaseBinary release, ITestOutputHelper output)
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(3);

    [RuntimeFact]
    public async Task Publish_ControlPlaneWhereNoDotnetIsReachable_ReadyzAnswersOk()
    {
        output.WriteLine($"./kubesharp --publish took {release.PublishTime.TotalSeconds:F0} s; {new FileInfo(release.Executable).Length / (1024 * 1024)} MiB");
        Assert.Equal(release.Executable, release.PublishOutput);
        Assert.Equal(["kubesharp"], Directory.GetFileSystemEntries(Path.GetDirectoryName(release.Executable)!).Select(Path.GetFileName));
        var script = await release.WriteWithoutDotnetScriptAsync();

        // Where the binary runs, dotnet does not.
        var hidden = await ReleaseBinary.DotnetDirectoriesAsync();
        Assert.NotEmpty(hidden);
        var probe = await RunAsync(await release.WithoutDotnet(script, ["/bin/sh", "-c", "dotnet --list-runtimes 2>&1; echo \"exit $?\"; echo \"entries $(find \"$@\" -mindepth 1 | wc -l)\"", "sh", .. hidden]));
        Assert.Contains("exit 127", probe.Output, StringComparison.Ordinal);
        Assert.Contains("entries 0", probe.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Microsoft.NETCore.App", probe.Output, StringComparison.Ordinal);

        await RunServerAsync(script, ["--disable-agent"], async server =>
        {
            var readyz = await InNamespaceAsync(server, ["curl", "-sk", "--max-time", "20", "https://127.0.0.1:6443/readyz"]);
            Assert.Equal("ok", readyz.Output.Trim());
            var nodes = await InNamespaceAsync(server, ["kubectl", "--kubeconfig", Path.Combine(release.Directory, "data", "kubeconfig.yaml"), "get", "namespaces", "-o", "name"]);
            Assert.Contains("namespace/kube-system", nodes.Output, StringComparison.Ordinal);
        });
    }

    [RuntimeFact]
    public async Task Publish_ServerWithNodeWhereNoDotnetIsReachable_NodeReady()
    {
        var script = await release.WriteWithoutDotnetScriptAsync();
        var registries = Path.Combine(release.Directory, "registries.yaml");
        await File.WriteAllTextAsync(registries, "mirrors:\n  mirror.test:\n    endpoint: [\"http://127.0.0.1:5999\"]\n");
        await RunServerAsync(script, ["--private-registry", registries], async server =>
        {
            var kubeconfig = Path.Combine(release.Directory, "data", "kubeconfig.yaml");
            // The server hands its registries file to its node's containerd.
            var hosts = await File.ReadAllTextAsync(Path.Combine(release.Directory, "data", "agent", "containerd", "certs.d", "mirror.test", "hosts.toml"));
            Assert.Contains("[host.\"http://127.0.0.1:5999\"]", hosts, StringComparison.Ordinal);
            var readyz = await InNamespaceAsync(server, ["curl", "-sk", "--max-time", "20", "https://127.0.0.1:6443/readyz"]);
            Assert.Equal("ok", readyz.Output.Trim());
            var ready = "";
            using var timeout = new CancellationTokenSource(WaitLimit);
            while (!timeout.IsCancellationRequested)
            {
                var nodes = await InNamespaceAsync(server, ["kubectl", "--kubeconfig", kubeconfig, "get", "nodes", "--no-headers"]);
                ready = nodes.Output;
                if (ready.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == "Ready")
                {
                    break;
                }

                await Task.Delay(500, CancellationToken.None);
            }

            Assert.Equal("Ready", ready.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1));
        });
    }

    /// <summary>Starts <c>kubesharp server</c> from the release without .NET, runs <paramref name="check"/> once it says it is ready, then stops it and removes what it left.</summary>
    private async Task RunServerAsync(string script, string[] arguments, Func<Process, Task> check)
    {
        var data = Path.Combine(release.Directory, "data");
        var info = await release.WithoutDotnet(script, new[] { release.Executable, "server", "--data-dir", data }.Concat(arguments));
        var process = Process.Start(info)!;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("ready at", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null && lines.Count < 200)
            {
                lines.Enqueue(e.Data);
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("kubesharp server exited before it was ready: " + string.Join('\n', lines)));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(WaitLimit);
            await check(process);
        }
        finally
        {
            if (!process.HasExited)
            {
                using (Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                {
                }

                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    await process.WaitForExitAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }

            process.Dispose();
            // containerd and its shims name the data directory; the namespaces' mounts and links go with their last process.
            HostCleanup.KillProcessesMentioning(data);
            HostCleanup.UnmountUnder(data);
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Runs a program in the network namespace of <paramref name="server"/> (the probe needs no .NET either).</summary>
    private static Task<(int ExitCode, string Output)> InNamespaceAsync(Process server, string[] arguments)
    {
        var info = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--target", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--net" }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        return RunAsync(info);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{info.FileName} {string.Join(' ', info.ArgumentList)} did not finish: {await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>
/// The publish compiles the executable for its runtime identifier: alone, after the project's parallel tests, it takes
/// about a minute; beside a hundred node tests on two cores it took over six.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReleaseCollection : ICollectionFixture<ReleaseBinary>
{
    public const string Name = "release binary";
}
