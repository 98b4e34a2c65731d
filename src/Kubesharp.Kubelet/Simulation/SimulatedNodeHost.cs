using System.Collections.Concurrent;
using Kubesharp.Api.Coordination.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Kubelet.Simulation;

/// <summary>
/// Serves N nodes in-process, KWOK style, entirely through the API: registers the Nodes, renews their Leases
/// in kube-node-lease, turns pods bound to them Running and Ready (pod IPs from the node's podCIDR), and
/// completes deletions once the grace period has passed. <see cref="FailNode"/> stops a node's heartbeats.
/// </summary>
public sealed partial class SimulatedNodeHost : BackgroundService
{
    private const string LeaseNamespace = "kube-node-lease";
    private readonly KubernetesClient client;
    private readonly SimulatedNodeOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<string, SimulatedNode> nodes = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ResourceClient<Pod> pods;
    private SharedInformer<Pod>? podInformer;

    public SimulatedNodeHost(KubernetesClient client, SimulatedNodeOptions options, TimeProvider? timeProvider = null, ILogger<SimulatedNodeHost>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        this.client = client;
        this.options = options;
        time = timeProvider ?? TimeProvider.System;
        this.logger = logger ?? (ILogger)NullLogger.Instance;
        pods = client.Resource<Pod>();
        for (var i = 0; i < options.Count; i++)
        {
            var name = options.NamePrefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            nodes[name] = new SimulatedNode(name, i);
        }
    }

    /// <summary>Completes once every node is registered with a Lease and pods are being served.</summary>
    public Task Ready => ready.Task;

    public IReadOnlyCollection<string> NodeNames => [.. nodes.Keys];

    /// <summary>Stops the node's heartbeats (lease and status) and pod handling; with <paramref name="notReady"/> also reports Ready=False.</summary>
    public async Task FailNode(string name, bool notReady, CancellationToken cancellationToken)
    {
        var node = nodes[name];
        node.Failed = true;
        if (notReady)
        {
            await ReportStatusAsync(node, ready: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Resumes a failed node: Ready again, heartbeats and pods served.</summary>
    public async Task RecoverNode(string name, CancellationToken cancellationToken)
    {
        var node = nodes[name];
        node.Failed = false;
        await ReportStatusAsync(node, ready: true, cancellationToken).ConfigureAwait(false);
        await RenewLeaseAsync(node, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await ForEachNodeAsync(RegisterAsync, stoppingToken).ConfigureAwait(false);
            using var queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(time), time);
            podInformer = new SharedInformer<Pod>(pods, null, time);
            podInformer.AddEventHandler(
                onAdd: p => Enqueue(queue, p),
                onUpdate: (_, p) => Enqueue(queue, p),
                onDelete: p =>
                {
                    if (p.Spec?.NodeName is { } n && nodes.TryGetValue(n, out var node))
                    {
                        node.Release(p.Metadata?.Uid ?? "");
                    }
                });
            var informing = podInformer.RunAsync(stoppingToken);
            await podInformer.WaitForSyncAsync(stoppingToken).ConfigureAwait(false);
            var worker = new ReconcileWorker("simulated-nodes", queue, ReconcilePodAsync, logger);
            var working = worker.RunAsync(options.PodWorkers, stoppingToken);
            ready.TrySetResult();
            LogReady(logger, nodes.Count);
            await HeartbeatLoopAsync(stoppingToken).ConfigureAwait(false);
            await Task.WhenAll(informing, working).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            ready.TrySetCanceled(stoppingToken);
        }
        catch (Exception e)
        {
            ready.TrySetException(e);
            throw;
        }
    }

    private void Enqueue(WorkQueue<string> queue, Pod pod)
    {
        if (options.ServePods && pod.Spec?.NodeName is { Length: > 0 } nodeName && nodes.ContainsKey(nodeName))
        {
            queue.Add(ObjectKey.Of(pod));
        }
    }

    private async Task<ReconcileResult> ReconcilePodAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        var pod = podInformer!.Lister.Get(ns, name);
        if (pod?.Spec?.NodeName is not { } nodeName || !nodes.TryGetValue(nodeName, out var node) || node.Failed)
        {
            return ReconcileResult.Done;
        }

        var uid = pod.Metadata?.Uid ?? "";
        if (pod.Metadata?.DeletionTimestamp is { } deletion)
        {
            // The API server sets deletionTimestamp to the moment the grace period ends.
            var remaining = deletion - time.GetUtcNow();
            if (remaining > TimeSpan.Zero)
            {
                return ReconcileResult.RequeueIn(remaining);
            }

            try
            {
                await pods.DeleteAsync(ns, name, new DeleteOptions { GracePeriodSeconds = 0, Preconditions = new Preconditions { Uid = uid } }, cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e) when (e.IsNotFound() || e.IsConflict())
            {
            }

            node.Release(uid);
            return ReconcileResult.Done;
        }

        if (pod.Status?.Phase is "Running" or "Succeeded" or "Failed" && pod.Status.PodIP is not null)
        {
            return ReconcileResult.Done;
        }

        var ip = node.IpFor(uid);
        var now = time.GetUtcNow();
        var status = (pod.Status ?? new PodStatus()) with
        {
            Phase = "Running",
            HostIP = PodCidr.NodeIp(node.Index),
            HostIPs = [new HostIP { Ip = PodCidr.NodeIp(node.Index) }],
            PodIP = ip,
            PodIPs = ip is null ? null : [new PodIP { Ip = ip }],
            StartTime = pod.Status?.StartTime ?? now,
            QosClass = pod.Status?.QosClass ?? "BestEffort",
            Conditions =
            [
                Condition("PodReadyToStartContainers", now),
                Condition("Initialized", now),
                Condition("Ready", now),
                Condition("ContainersReady", now),
                Condition("PodScheduled", pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled")?.LastTransitionTime ?? now),
            ],
            ContainerStatuses = (pod.Spec.Containers ?? []).Select(c => new ContainerStatus
            {
                Name = c.Name,
                Image = c.Image,
                ImageID = "kubesharp-sim://" + c.Image,
                ContainerID = $"kubesharp-sim://{uid}/{c.Name}",
                Ready = true,
                Started = true,
                RestartCount = 0,
                State = new ContainerState { Running = new ContainerStateRunning { StartedAt = now } },
            }).ToList(),
        };
        try
        {
            await pods.UpdateStatusAsync(pod with { Status = status }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            node.Release(uid);
        }

        return ReconcileResult.Done;
    }

    private static PodCondition Condition(string type, DateTimeOffset at) =>
        new() { Type = type, Status = "True", LastTransitionTime = at };

    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        var lastStatus = time.GetUtcNow();
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(options.LeaseRenewInterval, time, cancellationToken).ConfigureAwait(false);
            await ForEachNodeAsync(async (node, ct) =>
            {
                if (!node.Failed)
                {
                    await RenewLeaseAsync(node, ct).ConfigureAwait(false);
                }
            }, cancellationToken).ConfigureAwait(false);
            if (time.GetUtcNow() - lastStatus >= options.StatusReportInterval)
            {
                lastStatus = time.GetUtcNow();
                await ForEachNodeAsync(async (node, ct) =>
                {
                    if (!node.Failed)
                    {
                        await ReportStatusAsync(node, ready: true, ct).ConfigureAwait(false);
                    }
                }, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task ForEachNodeAsync(Func<SimulatedNode, CancellationToken, Task> action, CancellationToken cancellationToken) =>
        await Parallel.ForEachAsync(nodes.Values.OrderBy(n => n.Index), new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken }, async (node, ct) =>
        {
            try
            {
                await action(node, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StatusException or HttpRequestException or IOException)
            {
                LogHeartbeatFailed(logger, node.Name, e.Message);
            }
        }).ConfigureAwait(false);

    private async Task RegisterAsync(SimulatedNode node, CancellationToken cancellationToken)
    {
        var nodes = client.Resource<Node>();
        try
        {
            await nodes.CreateAsync(NodeObject(node), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsAlreadyExists())
        {
        }

        await ReportStatusAsync(node, ready: true, cancellationToken).ConfigureAwait(false);
        await RenewLeaseAsync(node, cancellationToken).ConfigureAwait(false);
    }

    private Node NodeObject(SimulatedNode node)
    {
        var labels = new Dictionary<string, string>
        {
            ["kubernetes.io/hostname"] = node.Name,
            ["kubernetes.io/os"] = "linux",
            ["kubernetes.io/arch"] = "amd64",
            ["type"] = "kubesharp-simulated",
        };
        return new Node
        {
            Metadata = new ObjectMeta
            {
                Name = node.Name,
                Labels = labels,
                Annotations = new() { ["node.alpha.kubernetes.io/ttl"] = "0" },
            },
            Spec = new NodeSpec
            {
                PodCIDR = PodCidr.ForNode(node.Index),
                PodCIDRs = [PodCidr.ForNode(node.Index)],
                Taints = options.Taint ? [new Taint { Key = SimulatedNodeOptions.TaintKey, Value = "true", Effect = "NoSchedule" }] : null,
            },
        };
    }

    private async Task ReportStatusAsync(SimulatedNode node, bool ready, CancellationToken cancellationToken)
    {
        var nodes = client.Resource<Node>();
        var current = await nodes.GetAsync(null, node.Name, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var capacity = new Dictionary<string, Quantity>
        {
            ["cpu"] = Quantity.Parse(options.Cpu),
            ["memory"] = Quantity.Parse(options.Memory),
            ["pods"] = new Quantity(options.Pods),
            ["ephemeral-storage"] = Quantity.Parse(options.EphemeralStorage),
        };
        foreach (var (name, value) in options.ExtendedResources)
        {
            capacity[name] = Quantity.Parse(value);
        }

        var oldReady = current.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        var readyStatus = ready ? "True" : "False";
        NodeCondition Healthy(string type, string reason) => new()
        {
            Type = type,
            Status = "False",
            Reason = reason,
            LastHeartbeatTime = now,
            LastTransitionTime = current.Status?.Conditions?.FirstOrDefault(c => c.Type == type)?.LastTransitionTime ?? now,
        };
        var status = new NodeStatus
        {
            Capacity = capacity,
            Allocatable = capacity,
            Phase = "Running",
            Addresses = [new NodeAddress { Type = "InternalIP", Address = PodCidr.NodeIp(node.Index) }, new NodeAddress { Type = "Hostname", Address = node.Name }],
            DaemonEndpoints = new NodeDaemonEndpoints { KubeletEndpoint = new DaemonEndpoint { Port = 10250 } },
            NodeInfo = new NodeSystemInfo
            {
                Architecture = "amd64",
                OperatingSystem = "linux",
                OsImage = "kubesharp simulated node",
                KernelVersion = "simulated",
                ContainerRuntimeVersion = "kubesharp-sim://1.0",
                KubeletVersion = "v1.32.0",
                KubeProxyVersion = "v1.32.0",
                MachineID = node.Name,
                SystemUUID = node.Name,
                BootID = node.Name,
            },
            Conditions =
            [
                Healthy("MemoryPressure", "KubeletHasSufficientMemory"),
                Healthy("DiskPressure", "KubeletHasNoDiskPressure"),
                Healthy("PIDPressure", "KubeletHasSufficientPID"),
                new NodeCondition
                {
                    Type = "Ready",
                    Status = readyStatus,
                    Reason = ready ? "KubeletReady" : "KubeletNotReady",
                    Message = ready ? "kubelet is posting ready status" : "simulated node failure",
                    LastHeartbeatTime = now,
                    LastTransitionTime = oldReady?.Status == readyStatus ? oldReady.LastTransitionTime ?? now : now,
                },
            ],
        };
        await nodes.UpdateStatusAsync(current with { Status = status }, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task RenewLeaseAsync(SimulatedNode node, CancellationToken cancellationToken)
    {
        var leases = client.Resource<Lease>();
        var now = time.GetUtcNow();
        try
        {
            var lease = await leases.GetAsync(LeaseNamespace, node.Name, cancellationToken).ConfigureAwait(false);
            await leases.UpdateAsync(lease with { Spec = (lease.Spec ?? new LeaseSpec()) with { HolderIdentity = node.Name, RenewTime = now, LeaseDurationSeconds = options.LeaseDurationSeconds } }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            var owner = await client.Resource<Node>().GetAsync(null, node.Name, cancellationToken).ConfigureAwait(false);
            await leases.CreateAsync(new Lease
            {
                Metadata = new ObjectMeta
                {
                    Name = node.Name,
                    Namespace = LeaseNamespace,
                    OwnerReferences = [new OwnerReference { ApiVersion = "v1", Kind = "Node", Name = node.Name, Uid = owner.Metadata?.Uid ?? "" }],
                },
                Spec = new LeaseSpec { HolderIdentity = node.Name, LeaseDurationSeconds = options.LeaseDurationSeconds, RenewTime = now },
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} simulated nodes registered")]
    private static partial void LogReady(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat of simulated node {Node} failed: {Error}")]
    private static partial void LogHeartbeatFailed(ILogger logger, string node, string error);
}
