using Grpc.Core;
using Kubesharp.Api.Core.V1;
using Kubesharp.Kubelet.Devices.V1Beta1;
using Microsoft.Extensions.Logging;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Devices;

/// <summary>
/// The node's devices by resource, as their plugins report them, and which containers hold them. Plugins register
/// (Register), then their ListAndWatch stream keeps the device list and health; a plugin that goes away leaves its
/// devices unhealthy until it registers again. Containers get whole devices, never shared, chosen among the healthy
/// free ones (the plugin's preference first); assignments are kept in a checkpoint until the pod is released.
/// </summary>
internal sealed partial class DeviceRegistry : IAsyncDisposable
{
    public const string Version = "v1beta1";
    public const string Healthy = "Healthy";

    private readonly object gate = new();
    private readonly object checkpointGate = new();
    private readonly Dictionary<string, ResourceDevices> resources = new(StringComparer.Ordinal);
    private readonly List<DeviceAssignment> assignments;
    private readonly SemaphoreSlim allocating = new(1, 1);
    private readonly CancellationTokenSource stopping = new();
    private readonly List<Task> watches = [];
    private readonly string checkpointPath;
    private readonly ILogger logger;
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DeviceRegistry(string directory, ILogger logger)
    {
        Directory = directory;
        this.logger = logger;
        checkpointPath = Path.Combine(directory, DeviceCheckpoint.FileName);
        var (saved, registered) = DeviceCheckpoint.Read(checkpointPath);
        assignments = saved;
        // Until its plugin registers again a resource is reported with no devices (capacity 0), as upstream does.
        foreach (var resource in registered.Keys.Concat(saved.Select(a => a.ResourceName)))
        {
            resources.TryAdd(resource, new ResourceDevices());
        }
    }

    /// <summary>The device plugin directory: the agent's kubelet.sock, the plugins' sockets, the checkpoint.</summary>
    public string Directory { get; }

    /// <summary>Completes at the next change of devices or their health.</summary>
    public Task WaitForChangeAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return changed.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Capacity (all devices) and allocatable (healthy devices) per resource ever registered.</summary>
    public IReadOnlyDictionary<string, (int Capacity, int Allocatable)> Counts()
    {
        lock (gate)
        {
            return resources.ToDictionary(r => r.Key, r => (r.Value.Devices.Count, r.Value.Devices.Values.Count(d => d.Health == Healthy)), StringComparer.Ordinal);
        }
    }

    /// <summary>Healthy device IDs per resource (the pod resources API's allocatable devices).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<Device>> HealthyDevices()
    {
        lock (gate)
        {
            return resources.ToDictionary(
                r => r.Key,
                r => (IReadOnlyList<Device>)[.. r.Value.Devices.Values.Where(d => d.Health == Healthy).OrderBy(d => d.ID, StringComparer.Ordinal)],
                StringComparer.Ordinal);
        }
    }

    /// <summary>The assignments of one pod.</summary>
    public IReadOnlyList<DeviceAssignment> AssignmentsOf(string podUid)
    {
        lock (gate)
        {
            return [.. assignments.Where(a => a.PodUid == podUid)];
        }
    }

    /// <summary>Pods holding devices (the checkpoint's pods after a restart, so finished ones are released).</summary>
    public IReadOnlyList<string> PodUids()
    {
        lock (gate)
        {
            return [.. assignments.Select(a => a.PodUid).Distinct(StringComparer.Ordinal)];
        }
    }

    /// <summary>A plugin's registration: checked, then its endpoint is connected and watched in the background.</summary>
    public Empty Register(RegisterRequest request)
    {
        if (request.Version != Version)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"Unsupported device plugin API version {request.Version}; this agent serves {Version}"));
        }

        if (!ExtendedResourceName.IsValid(request.ResourceName))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"invalid name of device plugin socket: resource name {request.ResourceName} is not an extended resource name"));
        }

        if (request.Endpoint.Length == 0 || request.Endpoint.Contains('/', StringComparison.Ordinal) || request.Endpoint is "." or "..")
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"endpoint {request.Endpoint} must be a socket file name in {Directory}"));
        }

        var endpoint = new DevicePluginEndpoint(request.ResourceName, Path.Combine(Directory, request.Endpoint), request.Options ?? new DevicePluginOptions());
        CancellationTokenSource watch;
        lock (gate)
        {
            if (!resources.TryGetValue(request.ResourceName, out var state))
            {
                resources[request.ResourceName] = state = new ResourceDevices();
            }

            // A plugin registering again (restarted, or after the agent's socket was re-created) replaces the old connection.
            state.Watch?.Cancel();
            state.Endpoint = endpoint;
            state.Watch = watch = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
            watches.RemoveAll(t => t.IsCompleted);
            watches.Add(Task.Run(() => WatchAsync(endpoint, watch)));
        }

        LogRegistered(logger, request.ResourceName, endpoint.SocketPath, endpoint.Options.PreStartRequired, endpoint.Options.GetPreferredAllocationAvailable);
        return new Empty();
    }

    private async Task WatchAsync(DevicePluginEndpoint endpoint, CancellationTokenSource watch)
    {
        try
        {
            await foreach (var list in endpoint.WatchAsync(watch.Token))
            {
                lock (gate)
                {
                    var state = resources[endpoint.ResourceName];
                    if (state.Endpoint != endpoint)
                    {
                        break;
                    }

                    state.Devices = list.Devices.GroupBy(d => d.ID, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
                    SignalLocked();
                }

                var healthy = list.Devices.Count(d => d.Health == Healthy);
                LogDevices(logger, endpoint.ResourceName, list.Devices.Count, healthy);
                SaveCheckpoint();
            }
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException or OperationCanceledException)
        {
            if (!watch.IsCancellationRequested)
            {
                LogWatchEnded(logger, endpoint.ResourceName, e.Message);
            }
        }

        lock (gate)
        {
            var state = resources[endpoint.ResourceName];
            if (state.Endpoint == endpoint)
            {
                // The plugin is gone: its devices stay in capacity but cannot be allocated until it registers again.
                state.Endpoint = null;
                state.Devices = state.Devices.ToDictionary(d => d.Key, d => new Device(d.Value) { Health = "Unhealthy" }, StringComparer.Ordinal);
                SignalLocked();
            }
        }

        endpoint.Dispose();
    }

    /// <summary>
    /// The devices of every device plugin resource the container's limits ask for: the container's existing
    /// assignment, or new whole devices that no other container holds. Runs the plugin's PreStartContainer when it
    /// asked for it. Null when the container asks for no device.
    /// </summary>
    public async Task<IReadOnlyList<DeviceAssignment>?> AllocateAsync(Pod pod, Container container, CancellationToken cancellationToken)
    {
        var uid = pod.Metadata!.Uid!;
        List<(string Resource, int Count)> wanted;
        lock (gate)
        {
            wanted = [.. (container.Resources?.Limits ?? [])
                .Where(l => resources.ContainsKey(l.Key) && l.Value.Value() > 0)
                .Select(l => (l.Key, (int)l.Value.Value()))];
        }

        if (wanted.Count == 0)
        {
            return null;
        }

        var result = new List<DeviceAssignment>();
        await allocating.WaitAsync(cancellationToken);
        try
        {
            foreach (var (resource, count) in wanted)
            {
                DeviceAssignment? existing;
                DevicePluginEndpoint? endpoint;
                List<string> available;
                lock (gate)
                {
                    existing = assignments.FirstOrDefault(a => a.PodUid == uid && a.ContainerName == container.Name && a.ResourceName == resource);
                    var state = resources[resource];
                    endpoint = state.Endpoint;
                    var held = assignments.Where(a => a.ResourceName == resource).SelectMany(a => a.DeviceIds).ToHashSet(StringComparer.Ordinal);
                    available = [.. state.Devices.Values.Where(d => d.Health == Healthy && !held.Contains(d.ID)).Select(d => d.ID).Order(StringComparer.Ordinal)];
                }

                if (existing is not null)
                {
                    if (endpoint is { Options.PreStartRequired: true })
                    {
                        await PreStartAsync(endpoint, existing.DeviceIds, cancellationToken);
                    }

                    result.Add(existing);
                    continue;
                }

                if (endpoint is null)
                {
                    throw new DeviceAllocationException($"cannot allocate unregistered device {resource}");
                }

                if (available.Count < count)
                {
                    throw new DeviceAllocationException($"Allocate failed due to requested number of devices unavailable for {resource}. Requested: {count}, Available: {available.Count}, which is unexpected");
                }

                var chosen = await ChooseAsync(endpoint, available, count, cancellationToken);
                ContainerAllocateResponse response;
                try
                {
                    response = await endpoint.AllocateAsync(chosen, cancellationToken);
                }
                catch (Exception e) when (e is RpcException or HttpRequestException or IOException)
                {
                    throw new DeviceAllocationException($"the {resource} device plugin failed to allocate {string.Join(",", chosen)}: {e.Message}", e);
                }

                var assignment = new DeviceAssignment(uid, container.Name!, resource, chosen, response);
                lock (gate)
                {
                    assignments.Add(assignment);
                }

                SaveCheckpoint();
                var ids = string.Join(",", chosen);
                LogAllocated(logger, pod.Metadata.Namespace!, pod.Metadata.Name!, container.Name!, resource, ids);
                if (endpoint.Options.PreStartRequired)
                {
                    await PreStartAsync(endpoint, chosen, cancellationToken);
                }

                result.Add(assignment);
            }
        }
        finally
        {
            allocating.Release();
        }

        return result;
    }

    /// <summary>Frees every device the pod's containers hold.</summary>
    public void Release(string podUid)
    {
        int removed;
        lock (gate)
        {
            removed = assignments.RemoveAll(a => a.PodUid == podUid);
            if (removed > 0)
            {
                SignalLocked();
            }
        }

        if (removed > 0)
        {
            SaveCheckpoint();
            LogReleased(logger, podUid, removed);
        }
    }

    private static async Task<List<string>> ChooseAsync(DevicePluginEndpoint endpoint, List<string> available, int count, CancellationToken cancellationToken)
    {
        var chosen = new List<string>(count);
        if (endpoint.Options.GetPreferredAllocationAvailable)
        {
            try
            {
                var preferred = await endpoint.PreferredAllocationAsync(available, [], count, cancellationToken);
                chosen.AddRange(preferred.Where(available.Contains).Distinct(StringComparer.Ordinal).Take(count));
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or IOException)
            {
                // A preference is advice: without it the first free devices are taken.
            }
        }

        chosen.AddRange(available.Where(id => !chosen.Contains(id)).Take(count - chosen.Count));
        return chosen;
    }

    private static async Task PreStartAsync(DevicePluginEndpoint endpoint, IReadOnlyList<string> deviceIds, CancellationToken cancellationToken)
    {
        try
        {
            await endpoint.PreStartAsync(deviceIds, cancellationToken);
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException)
        {
            throw new DeviceAllocationException($"the {endpoint.ResourceName} device plugin's PreStartContainer failed: {e.Message}", e);
        }
    }

    private void SaveCheckpoint()
    {
        List<DeviceAssignment> saved;
        Dictionary<string, IReadOnlyList<string>> registered;
        lock (gate)
        {
            saved = [.. assignments];
            registered = resources.ToDictionary(r => r.Key, r => (IReadOnlyList<string>)[.. r.Value.Devices.Keys.Order(StringComparer.Ordinal)], StringComparer.Ordinal);
        }

        lock (checkpointGate)
        {
            DeviceCheckpoint.Write(checkpointPath, saved, registered);
        }
    }

    private void SignalLocked()
    {
        var previous = changed;
        changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        Task[] pending;
        lock (gate)
        {
            pending = [.. watches];
        }

        await Task.WhenAll(pending);
        stopping.Dispose();
        allocating.Dispose();
    }

    private sealed class ResourceDevices
    {
        public DevicePluginEndpoint? Endpoint { get; set; }

        public CancellationTokenSource? Watch { get; set; }

        public Dictionary<string, Device> Devices { get; set; } = new(StringComparer.Ordinal);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Device plugin for {Resource} registered at {Socket} (preStartRequired={PreStart}, getPreferredAllocationAvailable={Preferred})")]
    private static partial void LogRegistered(ILogger logger, string resource, string socket, bool preStart, bool preferred);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device plugin for {Resource} reports {Count} devices, {Healthy} healthy")]
    private static partial void LogDevices(ILogger logger, string resource, int count, int healthy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device plugin for {Resource} went away: {Reason}")]
    private static partial void LogWatchEnded(ILogger logger, string resource, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Allocated {Resource} devices {Devices} to container {Container} of pod {Namespace}/{Name}")]
    private static partial void LogAllocated(ILogger logger, string @namespace, string name, string container, string resource, string devices);

    [LoggerMessage(Level = LogLevel.Information, Message = "Released {Count} device assignments of pod {PodUid}")]
    private static partial void LogReleased(ILogger logger, string podUid, int count);
}
