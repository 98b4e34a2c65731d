using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Kubesharp.Cri;
using Kubesharp.Kubelet.Devices;
using Kubesharp.Kubelet.Devices.V1Beta1;

namespace Kubesharp.Kubelet.Tests.Devices;

/// <summary>
/// A device plugin for tests: a few fake devices, each backed by a character device node made like /dev/null
/// (harmless to read and write), served over gRPC on a unix socket in the agent's device plugin directory. It
/// registers with the agent's kubelet.sock and, like vendor plugins, starts over and registers again whenever
/// kubelet.sock is created anew (an agent restart).
/// </summary>
internal sealed class TestDevicePlugin : IAsyncDisposable
{
    private readonly string pluginDir;
    private readonly string socketName;
    private readonly ConcurrentDictionary<string, string> health = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();
    private readonly SemaphoreSlim restarting = new(1, 1);
    private FileSystemWatcher? watcher;
    private UnixGrpcServer? server;
    private CancellationTokenSource streams = new();
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TestDevicePlugin(string resourceName, string pluginDir, string deviceDir, int count)
    {
        ResourceName = resourceName;
        this.pluginDir = pluginDir;
        socketName = "test-" + Guid.NewGuid().ToString("N")[..8] + ".sock";
        DeviceDir = deviceDir;
        Directory.CreateDirectory(deviceDir);
        InfoDir = Path.Combine(deviceDir, "info");
        Directory.CreateDirectory(InfoDir);
        File.WriteAllText(Path.Combine(InfoDir, "driver"), "fake-driver-1.0\n");
        for (var i = 0; i < count; i++)
        {
            var id = "fakedev-" + i;
            MakeNullDevice(Path.Combine(deviceDir, id));
            health[id] = DeviceRegistry.Healthy;
        }
    }

    public string ResourceName { get; }

    public string DeviceDir { get; }

    /// <summary>A host directory every allocation mounts read-only at /fakedev-info.</summary>
    public string InfoDir { get; }

    /// <summary>How many times the plugin registered with the agent.</summary>
    public int Registrations { get; private set; }

    public ConcurrentQueue<string> Calls { get; } = new();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        watcher = new FileSystemWatcher(pluginDir, DevicePluginServer.SocketName) { NotifyFilter = NotifyFilters.FileName };
        watcher.Created += (_, _) => _ = Task.Run(() => RestartAsync(stopping.Token));
        watcher.EnableRaisingEvents = true;
        await RestartAsync(cancellationToken);
    }

    /// <summary>Reports a device healthy or not on the ListAndWatch stream.</summary>
    public void SetHealthy(string id, bool healthy)
    {
        health[id] = healthy ? DeviceRegistry.Healthy : "Unhealthy";
        Interlocked.Exchange(ref changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private async Task RestartAsync(CancellationToken cancellationToken)
    {
        await restarting.WaitAsync(cancellationToken);
        try
        {
            if (server is not null)
            {
                await streams.CancelAsync();
                await server.DisposeAsync();
                streams.Dispose();
                streams = new CancellationTokenSource();
            }

            server = await UnixGrpcServer.StartAsync(Path.Combine(pluginDir, socketName), new GrpcServiceSet().Add(new PluginService(this)), cancellationToken);
            // The agent's socket file appears when it binds, a moment before it accepts: a refused first try is retried.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await RegisterAsync(cancellationToken);
                    break;
                }
                catch (Exception e) when (attempt < 50 && e is RpcException or HttpRequestException or IOException)
                {
                    await Task.Delay(100, cancellationToken);
                }
            }

            Registrations++;
        }
        finally
        {
            restarting.Release();
        }
    }

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        using var channel = UnixSocketChannel.Create(Path.Combine(pluginDir, DevicePluginServer.SocketName));
        await new Registration.RegistrationClient(channel).RegisterAsync(
            new RegisterRequest
            {
                Version = DeviceRegistry.Version,
                Endpoint = socketName,
                ResourceName = ResourceName,
                Options = new DevicePluginOptions { PreStartRequired = true, GetPreferredAllocationAvailable = true },
            },
            cancellationToken: cancellationToken);
    }

    /// <summary>The DevicePlugin service: the plugin's devices and its answers to the agent's calls.</summary>
    private sealed class PluginService(TestDevicePlugin plugin) : DevicePlugin.DevicePluginBase
    {
        public override Task<DevicePluginOptions> GetDevicePluginOptions(Empty request, ServerCallContext context) =>
            Task.FromResult(new DevicePluginOptions { PreStartRequired = true, GetPreferredAllocationAvailable = true });

        public override async Task ListAndWatch(Empty request, IServerStreamWriter<ListAndWatchResponse> responseStream, ServerCallContext context)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, plugin.streams.Token);
            while (!linked.IsCancellationRequested)
            {
                var next = plugin.changed.Task;
                var response = new ListAndWatchResponse();
                response.Devices.AddRange(plugin.health.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => new Device { ID = d.Key, Health = d.Value }));
                await responseStream.WriteAsync(response, linked.Token);
                try
                {
                    await next.WaitAsync(linked.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        public override Task<PreferredAllocationResponse> GetPreferredAllocation(PreferredAllocationRequest request, ServerCallContext context)
        {
            // Prefers the highest-numbered devices, so the test sees the preference honoured over the agent's default order.
            var response = new PreferredAllocationResponse();
            foreach (var container in request.ContainerRequests)
            {
                plugin.Calls.Enqueue("GetPreferredAllocation:" + string.Join(",", container.AvailableDeviceIDs));
                response.ContainerResponses.Add(new ContainerPreferredAllocationResponse
                {
                    DeviceIDs = { container.AvailableDeviceIDs.OrderDescending(StringComparer.Ordinal).Take(container.AllocationSize) },
                });
            }

            return Task.FromResult(response);
        }

        public override Task<AllocateResponse> Allocate(AllocateRequest request, ServerCallContext context)
        {
            var response = new AllocateResponse();
            foreach (var container in request.ContainerRequests)
            {
                var ids = container.DevicesIds.Order(StringComparer.Ordinal).ToList();
                plugin.Calls.Enqueue("Allocate:" + string.Join(",", ids));
                var answer = new ContainerAllocateResponse
                {
                    Envs = { ["FAKEDEV_IDS"] = string.Join(",", ids) },
                    Annotations = { ["kubesharp.test/fakedev-ids"] = string.Join(",", ids) },
                    Mounts = { new Mount { ContainerPath = "/fakedev-info", HostPath = plugin.InfoDir, ReadOnly = true } },
                };
                answer.Devices.AddRange(ids.Select(id => new DeviceSpec { ContainerPath = "/dev/" + id, HostPath = Path.Combine(plugin.DeviceDir, id), Permissions = "rw" }));
                response.ContainerResponses.Add(answer);
            }

            return Task.FromResult(response);
        }

        public override Task<PreStartContainerResponse> PreStartContainer(PreStartContainerRequest request, ServerCallContext context)
        {
            plugin.Calls.Enqueue("PreStartContainer:" + string.Join(",", request.DevicesIds.Order(StringComparer.Ordinal)));
            return Task.FromResult(new PreStartContainerResponse());
        }
    }

    /// <summary>A character device with /dev/null's numbers (1, 3).</summary>
    private static void MakeNullDevice(string path)
    {
        var info = new ProcessStartInfo("mknod") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-m", "666", path, "c", "1", "3" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"mknod {path} failed: {error}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        watcher?.Dispose();
        await stopping.CancelAsync();
        await restarting.WaitAsync();
        try
        {
            await streams.CancelAsync();
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
        finally
        {
            restarting.Release();
        }

        streams.Dispose();
        stopping.Dispose();
        restarting.Dispose();
    }
}
