using Grpc.Core;
using Kubesharp.Kubelet.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Kubelet.Tests.Runtime;

/// <summary>The supervisor against the real containerd (root only), each test with its own data dir.</summary>
public sealed class ContainerdSupervisorTests
{
    private static readonly CancellationToken Timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    [ContainerdFact]
    public async Task StartAsync_ThenContainerdKilled_RestartsItAndCriAnswersAgain()
    {
        var dir = Directory.CreateTempSubdirectory("ks-sup-");
        var supervisor = new ContainerdSupervisor(new ContainerdOptions { DataDir = dir.FullName }, NullLogger<ContainerdSupervisor>.Instance);
        try
        {
            await supervisor.StartAsync(Timeout);
            var firstPid = supervisor.ProcessId!.Value;
            await supervisor.SandboxImageReady;
            Assert.NotNull(await supervisor.Images.ImageStatusAsync(new Cri.V1.ImageSpec { Image = Kubelet.Images.OciImageBuilder.PauseImageName }, Timeout));

            using (var victim = System.Diagnostics.Process.GetProcessById(firstPid))
            {
                victim.Kill();
            }

            while (supervisor.RestartCount == 0 || supervisor.ProcessId is null || supervisor.ProcessId == firstPid)
            {
                await Task.Delay(100, Timeout);
            }

            var version = await RetryAsync(() => supervisor.Runtime.VersionAsync(Timeout));
            Assert.Equal("containerd", version.RuntimeName);
            Assert.NotEqual(firstPid, supervisor.ProcessId);
        }
        finally
        {
            await supervisor.DisposeAsync();
            dir.Delete(recursive: true);
        }
    }

    [ContainerdFact]
    public async Task StopAsync_RunningContainerd_ProcessEndsAndPidFileIsRemoved()
    {
        var dir = Directory.CreateTempSubdirectory("ks-sup-");
        try
        {
            int pid;
            await using (var supervisor = new ContainerdSupervisor(new ContainerdOptions { DataDir = dir.FullName }, NullLogger<ContainerdSupervisor>.Instance))
            {
                await supervisor.StartAsync(Timeout);
                pid = supervisor.ProcessId!.Value;
                Assert.True(File.Exists(supervisor.Layout.PidFile));

                await supervisor.StopAsync(Timeout);

                Assert.Null(supervisor.ProcessId);
                Assert.False(File.Exists(supervisor.Layout.PidFile));
            }

            Assert.False(Directory.Exists($"/proc/{pid}") && File.ReadAllText($"/proc/{pid}/cmdline").Contains(dir.FullName, StringComparison.Ordinal));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [ContainerdFact]
    public async Task ContainerRuntime_ExternalEndpoint_ConnectsWithoutStartingContainerd()
    {
        var dir = Directory.CreateTempSubdirectory("ks-sup-");
        try
        {
            await using var owned = await ContainerRuntime.StartAsync(
                new ContainerRuntimeOptions { Containerd = new ContainerdOptions { DataDir = dir.FullName } }, NullLoggerFactory.Instance, cancellationToken: Timeout);

            await using var external = await ContainerRuntime.StartAsync(
                new ContainerRuntimeOptions { ContainerRuntimeEndpoint = owned.Endpoint }, NullLoggerFactory.Instance, cancellationToken: Timeout);

            Assert.NotNull(owned.Supervisor);
            Assert.Null(external.Supervisor);
            Assert.Equal("containerd", (await external.Runtime.VersionAsync(Timeout)).RuntimeName);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ContainerRuntime_ExternalEndpointNotListening_ThrowsUnavailable()
    {
        await Assert.ThrowsAsync<ContainerRuntimeUnavailableException>(() => ContainerRuntime.StartAsync(
            new ContainerRuntimeOptions { ContainerRuntimeEndpoint = "unix:///nonexistent/kubesharp.sock" }, NullLoggerFactory.Instance));
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        while (true)
        {
            try
            {
                return await call();
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                await Task.Delay(100, Timeout);
            }
        }
    }
}

internal sealed class ContainerdFactAttribute : FactAttribute
{
    public ContainerdFactAttribute()
    {
        if (!File.Exists("/usr/bin/containerd") || !File.Exists("/bin/busybox"))
        {
            Skip = "containerd or busybox-static is not installed.";
        }
        else if (Environment.UserName != "root")
        {
            Skip = "Needs root to run containerd.";
        }
    }
}
