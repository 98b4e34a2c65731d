using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Events;
using Kubesharp.Cri;
using Kubesharp.Kubelet.Devices;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Nodes;

/// <summary>
/// Registers the Node and keeps its status true: capacity from the machine, addresses, nodeInfo with the
/// runtime's version, and the Ready condition from the runtime's own status.
/// </summary>
internal sealed partial class NodeStatusController : IDisposable
{
    /// <summary>The version the agent reports; kubectl shows it and compares it with its own.</summary>
    public const string KubeletVersion = "v1.32.0-kubesharp";

    private readonly KubernetesClient client;
    private readonly IRuntimeService runtime;
    private readonly KubeletOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly MachineInfo machine;
    private readonly string nodeIp;
    private string lastReported = "";
    private DateTimeOffset lastReportedAt;
    private DateTimeOffset readySince;
    private bool lastReady;
    private bool? reportedReady;
    private readonly EventRecorder? events;
    private readonly DeviceRegistry? devices;
    private readonly Func<IReadOnlyList<string>>? volumesInUse;
    private readonly SemaphoreSlim updating = new(1, 1);
    private readonly TaskCompletionSource firstReady = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NodeStatusController(KubernetesClient client, IRuntimeService runtime, KubeletOptions options, int kubeletPort, TimeProvider time, ILogger logger, EventRecorder? events = null, DeviceRegistry? devices = null, Func<IReadOnlyList<string>>? volumesInUse = null)
    {
        this.devices = devices;
        this.volumesInUse = volumesInUse;
        this.events = events;
        this.client = client;
        this.runtime = runtime;
        this.options = options;
        this.time = time;
        this.logger = logger;
        KubeletPort = kubeletPort;
        machine = MachineInfo.Read(options.DataDir);
        nodeIp = options.NodeIp ?? MachineInfo.DefaultNodeIp();
    }

    public string NodeName => options.ResolvedNodeName;

    public string NodeIp => nodeIp;

    public int KubeletPort { get; }

    /// <summary>Whether the last status built said Ready (the runtime and its network are ready).</summary>
    public bool Ready => lastReady;

    /// <summary>
    /// What the node's own start must finish before it may say Ready (its pod network and sandbox image): the runtime
    /// reports itself ready as soon as the CNI configuration exists, before either.
    /// </summary>
    public Task StartedUp { get; init; } = Task.CompletedTask;

    /// <summary>Completes once a status saying Ready has been written.</summary>
    public Task ReportedReady => firstReady.Task;

    /// <summary>The registered Node's UID (owner of its Lease).</summary>
    public string? NodeUid { get; private set; }

    public void Dispose() => updating.Dispose();

    /// <summary>Creates the Node, or takes over the existing one and sets its pod CIDR (its status is written apart).</summary>
    public async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var nodes = client.Resource<Node>();
        NodeEvent("Starting", "Starting kubelet.");
        var node = new Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new ObjectMeta { Name = NodeName, Labels = Labels() },
            // Without a pod CIDR of its own the node gets one from the node IPAM controller.
            Spec = options.PodCidr is { } podCidr ? new NodeSpec { PodCIDR = podCidr, PodCIDRs = [podCidr] } : null,
        };
        Node registered;
        try
        {
            registered = await nodes.CreateAsync(node, cancellationToken: cancellationToken);
            LogRegistered(logger, NodeName);
        }
        catch (StatusException e) when (e.IsAlreadyExists())
        {
            registered = await nodes.GetAsync(null, NodeName, cancellationToken);
            if ((options.PodCidr is not null && registered.Spec?.PodCIDR != options.PodCidr) || !HasLabels(registered))
            {
                var spec = options.PodCidr is { } own ? ",\"spec\":{\"podCIDR\":\"" + own + "\",\"podCIDRs\":[\"" + own + "\"]}" : "";
                var patch = "{\"metadata\":{\"labels\":" + Json(Labels()) + "}" + spec + "}";
                registered = await nodes.PatchAsync(null, NodeName, PatchType.Merge, patch, cancellationToken: cancellationToken);
            }
        }

        NodeUid = registered.Metadata?.Uid;
    }

    /// <summary>
    /// Waits until the Node has a <c>spec.podCIDR</c> (the node IPAM controller assigns it moments after registration)
    /// and returns it. It watches the Node rather than polling it: the node cannot be Ready before its pod network is
    /// configured, so every moment between the assignment and its notice would be added to the node's start.
    /// </summary>
    public async Task<string> WaitForPodCidrAsync(CancellationToken cancellationToken)
    {
        var nodes = client.Resource<Node>();
        var byName = "metadata.name=" + NodeName;
        using var warning = time.CreateTimer(_ => LogWaitingForPodCidr(logger, NodeName), null, TimeSpan.FromSeconds(30), Timeout.InfiniteTimeSpan);
        while (true)
        {
            try
            {
                // Listed first and watched from the list's version, so an assignment between the two is not missed.
                var listed = await nodes.ListAsync(null, new ListOptions { FieldSelector = byName }, cancellationToken);
                if (listed.Items.Count > 0 && listed.Items[0].Spec?.PodCIDR is { Length: > 0 } podCidr)
                {
                    return podCidr;
                }

                await foreach (var change in nodes.WatchAsync(null, new ListOptions { FieldSelector = byName, ResourceVersion = listed.ResourceVersion, AllowWatchBookmarks = true }, cancellationToken))
                {
                    if (change.Type is WatchEventType.Added or WatchEventType.Modified && change.Object.Spec?.PodCIDR is { Length: > 0 } assigned)
                    {
                        return assigned;
                    }
                }
            }
            catch (Exception e) when (e is StatusException or HttpRequestException or IOException)
            {
                LogPodCidrReadFailed(logger, NodeName, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
            }
        }
    }

    /// <summary>Writes the status when it changed or when the report period passed.</summary>
    public async Task UpdateStatusAsync(bool force, CancellationToken cancellationToken)
    {
        // The periodic report and device changes both write; one at a time keeps the last-reported state true.
        await updating.WaitAsync(cancellationToken);
        try
        {
            await UpdateStatusLockedAsync(force, cancellationToken);
        }
        finally
        {
            updating.Release();
        }
    }

    private async Task UpdateStatusLockedAsync(bool force, CancellationToken cancellationToken)
    {
        var status = await BuildStatusAsync(cancellationToken);
        var now = time.GetUtcNow();
        var fingerprint = Encoding.UTF8.GetString(KubernetesJson.Serialize(status with { Conditions = status.Conditions!.Select(c => c with { LastHeartbeatTime = null }).ToList() }));
        if (!force && fingerprint == lastReported && now - lastReportedAt < options.NodeStatusReportFrequency)
        {
            return;
        }

        var statusJson = JsonNode.Parse(KubernetesJson.Serialize(status))!.AsObject();
        if (status.VolumesInUse is { } inUse)
        {
            // Named even when empty: a merge patch keeps whatever it leaves out, so only [] clears the list.
            statusJson["volumesInUse"] = new JsonArray([.. inUse.Select(v => (JsonNode?)JsonValue.Create(v))]);
        }

        var body = new JsonObject { ["status"] = statusJson }.ToJsonString();
        await client.Resource<Node>().PatchAsync(null, NodeName, PatchType.Merge, body, subresource: "status", cancellationToken: cancellationToken);
        lastReported = fingerprint;
        lastReportedAt = now;
        if (reportedReady is null)
        {
            foreach (var condition in new[] { "NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID" })
            {
                NodeEvent(condition, $"Node {NodeName} status is now: {condition}");
            }

            NodeEvent("NodeAllocatableEnforced", "Updated Node Allocatable limit across pods");
        }

        if (reportedReady != lastReady)
        {
            var reason = lastReady ? "NodeReady" : "NodeNotReady";
            if (lastReady || reportedReady is not null)
            {
                NodeEvent(reason, $"Node {NodeName} status is now: {reason}");
                LogReadiness(logger, NodeName, reason);
            }

            reportedReady = lastReady;
        }

        if (lastReady)
        {
            firstReady.TrySetResult();
        }
    }

    /// <summary>An event about this node; upstream's kubelet names the node by its name in place of a UID.</summary>
    private void NodeEvent(string reason, string message) =>
        events?.Record(new Node { Metadata = new ObjectMeta { Name = NodeName, Uid = NodeName } }, EventType.Normal, reason, message);

    private async Task<Api.Core.V1.NodeStatus> BuildStatusAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        string runtimeVersion;
        bool ready;
        string message;
        try
        {
            var version = await runtime.VersionAsync(cancellationToken);
            runtimeVersion = $"{version.RuntimeName}://{version.RuntimeVersion}";
            var runtimeStatus = await runtime.StatusAsync(cancellationToken: cancellationToken);
            var notReady = runtimeStatus.Status.Conditions.Where(c => !c.Status).Select(c => $"{c.Type}={c.Reason}: {c.Message}").ToList();
            ready = notReady.Count == 0 && StartedUp.IsCompletedSuccessfully;
            message = notReady.Count > 0 ? "container runtime not ready: " + string.Join("; ", notReady)
                : ready ? "kubelet is posting ready status"
                : "kubelet is starting: the pod network or the sandbox image is not ready yet";
        }
        catch (Grpc.Core.RpcException e)
        {
            runtimeVersion = "unknown://";
            ready = false;
            message = "container runtime is down: " + e.Status.Detail;
        }

        if (ready != lastReady || readySince == default)
        {
            readySince = now;
            lastReady = ready;
        }

        var memory = new Quantity(machine.MemoryBytes, QuantityFormat.BinarySI);
        var capacity = new Dictionary<string, Quantity>
        {
            ["cpu"] = new Quantity(machine.Cpus),
            ["memory"] = memory,
            ["pods"] = new Quantity(options.MaxPods),
            ["ephemeral-storage"] = new Quantity(machine.EphemeralStorageBytes, QuantityFormat.BinarySI),
        };
        var allocatable = new Dictionary<string, Quantity>(capacity);
        // Device plugin resources: every device in capacity, only healthy ones allocatable; a resource whose plugin
        // is gone stays at 0 rather than vanishing, since a merge patch would keep the old number.
        foreach (var (resource, (all, healthy)) in devices?.Counts() ?? new Dictionary<string, (int, int)>())
        {
            capacity[resource] = new Quantity(all);
            allocatable[resource] = new Quantity(healthy);
        }

        NodeCondition Pressure(string type, string reason, string text) => new()
        {
            Type = type, Status = "False", Reason = reason, Message = text,
            LastHeartbeatTime = now, LastTransitionTime = readySince,
        };
        return new Api.Core.V1.NodeStatus
        {
            Capacity = capacity,
            Allocatable = allocatable,
            Addresses =
            [
                new NodeAddress { Type = "InternalIP", Address = nodeIp },
                new NodeAddress { Type = "Hostname", Address = NodeName },
            ],
            Conditions =
            [
                Pressure("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                Pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                Pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                new NodeCondition
                {
                    Type = "Ready",
                    Status = ready ? "True" : "False",
                    Reason = ready ? "KubeletReady" : "KubeletNotReady",
                    Message = message,
                    LastHeartbeatTime = now,
                    LastTransitionTime = readySince,
                },
            ],
            VolumesInUse = volumesInUse is null ? null : [.. volumesInUse()],
            DaemonEndpoints = new NodeDaemonEndpoints { KubeletEndpoint = new DaemonEndpoint { Port = KubeletPort } },
            NodeInfo = new NodeSystemInfo
            {
                MachineID = machine.MachineId,
                SystemUUID = machine.MachineId,
                BootID = machine.BootId,
                KernelVersion = machine.KernelVersion,
                OsImage = machine.OsImage,
                ContainerRuntimeVersion = runtimeVersion,
                KubeletVersion = KubeletVersion,
                KubeProxyVersion = "",
                OperatingSystem = "linux",
                Architecture = machine.Architecture,
            },
        };
    }

    private Dictionary<string, string> Labels() => new()
    {
        ["kubernetes.io/hostname"] = NodeName,
        ["kubernetes.io/os"] = "linux",
        ["kubernetes.io/arch"] = machine.Architecture,
        ["beta.kubernetes.io/os"] = "linux",
        ["beta.kubernetes.io/arch"] = machine.Architecture,
    };

    private bool HasLabels(Node node) =>
        Labels().All(l => node.Metadata?.Labels?.TryGetValue(l.Key, out var v) == true && v == l.Value);

    private static string Json(Dictionary<string, string> labels) =>
        "{" + string.Join(",", labels.Select(l => string.Create(CultureInfo.InvariantCulture, $"\"{l.Key}\":\"{l.Value}\""))) + "}";

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered node {Node}")]
    private static partial void LogRegistered(ILogger logger, string node);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node} status is now: {Reason}")]
    private static partial void LogReadiness(ILogger logger, string node, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Node} still has no pod CIDR; is the controller manager allocating node CIDRs (--cluster-cidr)?")]
    private static partial void LogWaitingForPodCidr(ILogger logger, string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read node {Node} for its pod CIDR: {Reason}")]
    private static partial void LogPodCidrReadFailed(ILogger logger, string node, string reason);
}
