using System.CommandLine;
using Kubesharp.Commands;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Cri;
using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Images;
using Kubesharp.Kubelet.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Kubelet.Tests.Images;

/// <summary><c>kubesharp images import</c> against a real containerd laid out as the server's node runs it.</summary>
public sealed class ImagesImportCommandTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var root = new RootCommand { ImagesCommand.Create() };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private static async Task<string> ArchiveAsync(string directory, string image)
    {
        var built = await OciImageBuilder.BuildBusyboxAsync(image, [], ["sh"]);
        var archive = Path.Combine(directory, Path.GetFileName(image).Replace(':', '-') + ".oci.tar");
        await OciImageBuilder.WriteOciArchiveAsync(archive, [built]);
        return archive;
    }

    private static async Task WaitForImageAsync(IImageService images, string image)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await images.ImageStatusAsync(new ImageSpec { Image = image }, timeout.Token) is null)
        {
            await Task.Delay(50, timeout.Token);
        }
    }

    [RuntimeFact]
    public async Task Import_ServerDataDirOrAgentDataDir_ReachesTheNodesContainerd()
    {
        // The server keeps its node in DATA/agent; an agent's data dir holds containerd itself.
        var serverDataDir = Directory.CreateTempSubdirectory("ks-").FullName;
        var agentDataDir = Path.Combine(serverDataDir, ContainerdImageImporter.ServerNodeDirectory);
        var supervisor = new ContainerdSupervisor(new ContainerdOptions { DataDir = agentDataDir }, NullLogger<ContainerdSupervisor>.Instance);
        try
        {
            await supervisor.StartAsync(CancellationToken.None);
            var viaServer = await ArchiveAsync(serverDataDir, "docker.io/kubesharp/import-server:test");
            var viaAgent = await ArchiveAsync(serverDataDir, "docker.io/kubesharp/import-agent:test");
            var empty = Directory.CreateDirectory(Path.Combine(serverDataDir, "not-a-node")).FullName;

            var server = await RunAsync("images", "import", viaServer, "--data-dir", serverDataDir);
            var agent = await RunAsync("images", "import", viaAgent, "--data-dir", agentDataDir);
            var nowhere = await RunAsync("images", "import", viaAgent, "--data-dir", empty);

            Assert.Equal((0, ""), (server.ExitCode, server.Error));
            Assert.Contains("imported docker.io/kubesharp/import-server:test", server.Output, StringComparison.Ordinal);
            Assert.Equal((0, ""), (agent.ExitCode, agent.Error));
            Assert.Contains("imported docker.io/kubesharp/import-agent:test", agent.Output, StringComparison.Ordinal);
            await WaitForImageAsync(supervisor.Images, "docker.io/kubesharp/import-server:test");
            await WaitForImageAsync(supervisor.Images, "docker.io/kubesharp/import-agent:test");
            Assert.Equal(1, nowhere.ExitCode);
            Assert.Contains(Path.Combine(empty, "containerd", "containerd.sock"), nowhere.Error, StringComparison.Ordinal);
        }
        finally
        {
            await supervisor.DisposeAsync();
            HostCleanup.KillProcessesMentioning(serverDataDir);
            HostCleanup.UnmountUnder(serverDataDir);
            Directory.Delete(serverDataDir, recursive: true);
        }
    }
}
