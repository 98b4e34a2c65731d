using System.Net;
using System.Text;
using Grpc.Core;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Network;

namespace Kubesharp.Cri.Tests;

[Collection(ContainerdCollection.Name)]
public sealed class CriRuntimeClientTests(ContainerdFixture fixture)
{
    private static readonly CancellationToken Timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    [RuntimeFact]
    public async Task VersionAsync_Containerd_ReportsCriV1()
    {
        var version = await fixture.Runtime.VersionAsync(Timeout);

        Assert.Equal("containerd", version.RuntimeName);
        Assert.Equal("v1", version.RuntimeApiVersion);
    }

    [RuntimeFact]
    public async Task StatusAsync_ConflistWritten_RuntimeAndNetworkReady()
    {
        StatusResponse status;
        do
        {
            // The CRI plugin picks the conflist up from its directory watch.
            status = await fixture.Runtime.StatusAsync(cancellationToken: Timeout);
        }
        while (!IsReady(status, "NetworkReady") && await PauseAsync());

        Assert.True(IsReady(status, "RuntimeReady"));
        Assert.True(IsReady(status, "NetworkReady"));
    }

    [RuntimeFact]
    public async Task ImageStatusAsync_SandboxImage_WasImportedNotPulled()
    {
        var image = await fixture.Images.ImageStatusAsync(new ImageSpec { Image = Kubelet.Images.OciImageBuilder.PauseImageName }, Timeout);

        Assert.NotNull(image);
        Assert.Contains(Kubelet.Images.OciImageBuilder.PauseImageName, image.RepoTags);
    }

    [RuntimeFact]
    public async Task RunPodSandboxAsync_WithCni_PodServesHttpOnItsIpWithEnvMemoryLimitAndLogs()
    {
        var runtime = fixture.Runtime;
        var sandboxConfig = NewSandboxConfig("web");
        var sandboxId = await runtime.RunPodSandboxAsync(sandboxConfig, cancellationToken: Timeout);
        try
        {
            var sandbox = await runtime.PodSandboxStatusAsync(sandboxId, cancellationToken: Timeout);
            Assert.Equal(PodSandboxState.SandboxReady, sandbox.Status.State);
            var podIp = IPAddress.Parse(sandbox.Status.Network.Ip);
            Assert.True(InCidr(podIp, fixture.PodCidr), $"{podIp} is not in {fixture.PodCidr}");

            var container = new ContainerConfig
            {
                Metadata = new ContainerMetadata { Name = "httpd" },
                Image = new ImageSpec { Image = ContainerdFixture.BusyboxImage },
                Command = { "sh", "-c", "mkdir -p /www && echo hello-$GREETING > /www/index.html && echo started && exec httpd -f -p 8080 -h /www" },
                Envs = { new KeyValue { Key = "GREETING", Value = "pod" } },
                LogPath = "httpd/0.log",
                Linux = new LinuxContainerConfig { Resources = new LinuxContainerResources { MemoryLimitInBytes = 64 * 1024 * 1024 } },
            };
            var containerId = await runtime.CreateContainerAsync(sandboxId, container, sandboxConfig, Timeout);
            await runtime.StartContainerAsync(containerId, Timeout);

            var status = await runtime.ContainerStatusAsync(containerId, cancellationToken: Timeout);
            Assert.Equal(ContainerState.ContainerRunning, status.Status.State);
            Assert.Equal("hello-pod\n", await GetWithRetryAsync(new Uri($"http://{podIp}:8080/")));

            var env = await runtime.ExecSyncAsync(containerId, ["sh", "-c", "echo $GREETING"], TimeSpan.FromSeconds(30), Timeout);
            Assert.Equal(0, env.ExitCode);
            Assert.Equal("pod\n", env.Stdout.ToStringUtf8());

            var memory = await runtime.ExecSyncAsync(
                containerId,
                ["sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"],
                TimeSpan.FromSeconds(30),
                Timeout);
            Assert.Equal("67108864", memory.Stdout.ToStringUtf8().Trim());

            var failing = await runtime.ExecSyncAsync(containerId, ["sh", "-c", "echo oops >&2; exit 3"], TimeSpan.FromSeconds(30), Timeout);
            Assert.Equal(3, failing.ExitCode);
            Assert.Equal("oops\n", failing.Stderr.ToStringUtf8());

            var logPath = Path.Combine(sandboxConfig.LogDirectory, "httpd", "0.log");
            Assert.Equal(logPath, status.Status.LogPath);
            Assert.Matches(@"^\S+ stdout F started$", (await File.ReadAllLinesAsync(logPath, Timeout)).First());

            var listed = await runtime.ListContainersAsync(new ContainerFilter { PodSandboxId = sandboxId }, Timeout);
            Assert.Equal(containerId, Assert.Single(listed).Id);

            await runtime.StopContainerAsync(containerId, 10, Timeout);
            var stopped = await runtime.ContainerStatusAsync(containerId, cancellationToken: Timeout);
            Assert.Equal(ContainerState.ContainerExited, stopped.Status.State);

            await runtime.RemoveContainerAsync(containerId, Timeout);
            var missing = await Assert.ThrowsAsync<RpcException>(() => runtime.ContainerStatusAsync(containerId, cancellationToken: Timeout));
            Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        }
        finally
        {
            await runtime.StopPodSandboxAsync(sandboxId, Timeout);
            await runtime.RemovePodSandboxAsync(sandboxId, Timeout);
        }

        Assert.DoesNotContain(await runtime.ListPodSandboxAsync(cancellationToken: Timeout), s => s.Id == sandboxId);
    }

    [RuntimeFact]
    public async Task ContainerStatsAsync_RunningContainer_ReportsMemoryAndCpu()
    {
        var runtime = fixture.Runtime;
        var sandboxConfig = NewSandboxConfig("stats");
        var sandboxId = await runtime.RunPodSandboxAsync(sandboxConfig, cancellationToken: Timeout);
        try
        {
            var containerId = await runtime.CreateContainerAsync(
                sandboxId,
                new ContainerConfig
                {
                    Metadata = new ContainerMetadata { Name = "sleeper" },
                    Image = new ImageSpec { Image = ContainerdFixture.BusyboxImage },
                    Command = { "sleep", "3600" },
                    LogPath = "sleeper/0.log",
                },
                sandboxConfig,
                Timeout);
            await runtime.StartContainerAsync(containerId, Timeout);

            var stats = await runtime.ContainerStatsAsync(containerId, Timeout);
            var all = await runtime.ListContainerStatsAsync(new ContainerStatsFilter { PodSandboxId = sandboxId }, Timeout);

            Assert.Equal(containerId, stats.Attributes.Id);
            Assert.True(stats.Memory.WorkingSetBytes.Value > 0);
            Assert.NotNull(stats.Cpu);
            Assert.Equal(containerId, Assert.Single(all).Attributes.Id);
        }
        finally
        {
            await runtime.StopPodSandboxAsync(sandboxId, Timeout);
            await runtime.RemovePodSandboxAsync(sandboxId, Timeout);
        }
    }

    [RuntimeFact]
    public async Task StopPodSandboxAsync_UnknownSandbox_ThrowsNotFound()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Runtime.PodSandboxStatusAsync("does-not-exist", cancellationToken: Timeout));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [RuntimeFact]
    public async Task VersionAsync_CallerCancels_ThrowsOperationCanceledNotRpcException()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        // The caller's own cancellation surfaces the .NET way, as callers catch it; RpcException is no OperationCanceledException.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fixture.Runtime.VersionAsync(cancelled.Token));
    }

    [RuntimeFact]
    public async Task ListContainersAsync_DeadlinePassed_ThrowsDeadlineExceeded()
    {
        var runtime = new CriRuntimeClient(fixture.Supervisor.Channel, requestTimeout: TimeSpan.FromTicks(1));

        var error = await Assert.ThrowsAsync<RpcException>(() => runtime.ListContainersAsync(cancellationToken: Timeout));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
    }

    private PodSandboxConfig NewSandboxConfig(string name)
    {
        var uid = Guid.NewGuid().ToString();
        return new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = name, Namespace = "default", Uid = uid },
            Hostname = name,
            LogDirectory = Path.Combine(fixture.Root, "pods", uid),
            Labels = { ["io.kubernetes.pod.name"] = name },
        };
    }

    private static bool IsReady(StatusResponse status, string type) =>
        status.Status.Conditions.Any(c => c.Type == type && c.Status);

    private static async Task<bool> PauseAsync()
    {
        await Task.Delay(100, Timeout);
        return true;
    }

    private static async Task<string> GetWithRetryAsync(Uri uri)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            try
            {
                return await http.GetStringAsync(uri, Timeout);
            }
            catch (HttpRequestException)
            {
                // The server starts a moment after the container does.
                await Task.Delay(100, Timeout);
            }
        }
    }

    private static bool InCidr(IPAddress address, string cidr)
    {
        var (network, prefix) = CniConfigWriter.ParseCidr(cidr);
        var a = address.GetAddressBytes();
        var n = network.GetAddressBytes();
        for (var bit = 0; bit < prefix; bit++)
        {
            var mask = (byte)(0x80 >> (bit % 8));
            if ((a[bit / 8] & mask) != (n[bit / 8] & mask))
            {
                return false;
            }
        }

        return true;
    }
}
