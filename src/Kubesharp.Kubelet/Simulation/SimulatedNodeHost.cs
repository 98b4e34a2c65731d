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
using Kubesharp.Kubelet.Volumes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Kubelet.Simulation;

/// <summary>
/// Serves N nodes in-process, KWOK style, entirely through the API: registers the Nodes, renews their Leases
/// in kube-node-lease, turns pods bound to them Running and Ready (pod IPs from the node's podCIDR), and
/// completes deletions: at once by default (containers that exit on SIGTERM), or once the grace period has passed
/// (<see cref="SimulatedPodTermination.Graceful"/>, per host or per pod annotation). <see cref="FailNode"/> stops a node's heartbeats. A pod
/// annotated with <see cref="SimulatedExit.Annotation"/> runs to completion at once with that exit code.
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
            await ReportStatusAsync(node, ready: false, null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Resumes a failed node: Ready again, heartbeats and pods served.</summary>
    public async Task RecoverNode(string name, CancellationToken cancellationToken)
    {
        var node = nodes[name];
        node.Failed = false;
        await ReportStatusAsync(node, ready: true, null, cancellationToken).ConfigureAwait(false);
        await RenewLeaseAsync(node, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await ForEachNodeAsync(RegisterAsync, stoppingToken).ConfigureAwait(false);
            if (!options.ServePods)
            {
                // Without pods to serve there is no reason to hold (and decode) every pod in the cluster.
                ready.TrySetResult();
                LogReady(logger, nodes.Count);
                await HeartbeatLoopAsync(stoppingToken).ConfigureAwait(false);
                return;
            }

            using var queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(time), time);
            // No slimmer copy of its own: in a server the pods it caches are the instances the controller manager's and the
            // scheduler's informers already hold (SharedObjectTable), so a copy would only add to them.
            podInformer = new SharedInformer<Pod>(pods, new SharedInformerOptions { TrimManagedFields = true }, time);
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

            // Simulated nodes provision local-path volumes too, on paper: the volume exists, its directory does not.
            var provisioning = new LocalPathProvisioner(client, nodes.ContainsKey, null, time, logger).RunAsync(options.PodWorkers, stoppingToken);
            ready.TrySetResult();
            LogReady(logger, nodes.Count);
            await HeartbeatLoopAsync(stoppingToken).ConfigureAwait(false);
            await Task.WhenAll(informing, working, provisioning).ConfigureAwait(false);
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

    private SimulatedPodTermination TerminationOf(Pod pod) =>
        pod.Metadata?.Annotations?.GetValueOrDefault(SimulatedNodeOptions.TerminationAnnotation) switch
        {
            { } value when value.Equals("graceful", StringComparison.OrdinalIgnoreCase) => SimulatedPodTermination.Graceful,
            { } value when value.Equals("prompt", StringComparison.OrdinalIgnoreCase) => SimulatedPodTermination.Prompt,
            _ => options.Termination,
        };

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
            if (TerminationOf(pod) == SimulatedPodTermination.Graceful && remaining > TimeSpan.Zero)
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

        if (node.Cidr is null)
        {
            // Like a real node, pods wait for the pod network: the node IPAM controller assigns the node's range.
            node.UsePodCidr((await client.Resource<Node>().GetAsync(null, node.Name, cancellationToken).ConfigureAwait(false)).Spec?.PodCIDR);
            if (node.Cidr is null)
            {
                return ReconcileResult.RequeueIn(TimeSpan.FromSeconds(1));
            }
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
        if (SimulatedExit.Of(pod) is { } exitCode)
        {
            status = SimulatedExit.Finish(status, exitCode, now);
        }

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

    /// <summary>
    /// Each node renews its Lease every <see cref="SimulatedNodeOptions.LeaseRenewInterval"/> and reports its status
    /// every <see cref="SimulatedNodeOptions.StatusReportInterval"/>, each node at its own phase of the interval, so
    /// thousands of nodes make an even stream of requests instead of a burst per interval that a busy API server
    /// answers too late. When the server falls behind, the most overdue heartbeat goes first and the next one is
    /// due a full interval after it completes, so no node is starved and no backlog of catch-up renewals forms.
    /// </summary>
    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        var due = new PriorityQueue<(SimulatedNode Node, bool Status), DateTimeOffset>();
        var ordered = nodes.Values.OrderBy(n => n.Index).ToList();
        var start = time.GetUtcNow();
        for (var i = 0; i < ordered.Count; i++)
        {
            // Registration has just renewed and reported: the first round is spread over one interval.
            var phase = (double)(i + 1) / ordered.Count;
            due.Enqueue((ordered[i], false), start + (options.LeaseRenewInterval * phase));
            due.Enqueue((ordered[i], true), start + (options.StatusReportInterval * phase));
        }

        if (due.Count == 0)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, time, cancellationToken).ConfigureAwait(false);
            return;
        }

        async Task WorkAsync()
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                (SimulatedNode Node, bool Status) item;
                DateTimeOffset at;
                lock (due)
                {
                    due.TryDequeue(out item, out at);
                }

                var wait = at - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                }

                if (!item.Node.Failed)
                {
                    try
                    {
                        if (item.Status)
                        {
                            await ReportStatusAsync(item.Node, ready: true, null, cancellationToken).ConfigureAwait(false);
                        }
                        else
                        {
                            await RenewLeaseAsync(item.Node, cancellationToken).ConfigureAwait(false);
                        }
                    }
                    catch (Exception e) when (e is StatusException or HttpRequestException or IOException)
                    {
                        LogHeartbeatFailed(logger, item.Node.Name, e.Message);
                    }
                }

                lock (due)
                {
                    due.Enqueue(item, time.GetUtcNow() + (item.Status ? options.StatusReportInterval : options.LeaseRenewInterval));
                }
            }
        }

        // Never more workers than heartbeats: each worker holds one heartbeat while it waits for it.
        var workers = Enumerable.Range(0, Math.Min(options.Concurrency, due.Count)).Select(_ => Task.Run(WorkAsync, cancellationToken)).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
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
        // Three requests per node on a fresh cluster: create the Node, report its status, create its Lease.
        var nodes = client.Resource<Node>();
        Node current;
        try
        {
            current = await nodes.CreateAsync(NodeObject(node), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsAlreadyExists())
        {
            current = await nodes.GetAsync(null, node.Name, cancellationToken).ConfigureAwait(false);
        }

        node.UsePodCidr(current.Spec?.PodCIDR);
        await ReportStatusAsync(node, ready: true, current, cancellationToken).ConfigureAwait(false);
        try
        {
            node.Lease = await client.Resource<Lease>().CreateAsync(new Lease
            {
                Metadata = new ObjectMeta
                {
                    Name = node.Name,
                    Namespace = LeaseNamespace,
                    OwnerReferences = [new OwnerReference { ApiVersion = "v1", Kind = "Node", Name = node.Name, Uid = current.Metadata?.Uid ?? "" }],
                },
                Spec = new LeaseSpec { HolderIdentity = node.Name, LeaseDurationSeconds = options.LeaseDurationSeconds, RenewTime = time.GetUtcNow() },
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsAlreadyExists())
        {
            await RenewLeaseAsync(node, cancellationToken).ConfigureAwait(false);
        }
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
                Taints = options.Taint ? [new Taint { Key = SimulatedNodeOptions.TaintKey, Value = "true", Effect = "NoSchedule" }] : null,
            },
        };
    }

    private async Task ReportStatusAsync(SimulatedNode node, bool ready, Node? current, CancellationToken cancellationToken)
    {
        var nodes = client.Resource<Node>();
        current ??= await nodes.GetAsync(null, node.Name, cancellationToken).ConfigureAwait(false);
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
        // The node lifecycle and IPAM controllers write new nodes too: on a conflict, report on the fresh object.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var written = await nodes.UpdateStatusAsync(current with { Status = status }, cancellationToken: cancellationToken).ConfigureAwait(false);
                node.UsePodCidr(written.Spec?.PodCIDR);
                return;
            }
            catch (StatusException e) when (e.IsConflict() && attempt < 5)
            {
                current = await nodes.GetAsync(null, node.Name, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task RenewLeaseAsync(SimulatedNode node, CancellationToken cancellationToken)
    {
        var leases = client.Resource<Lease>();
        var now = time.GetUtcNow();
        if (node.Lease is { } known)
        {
            try
            {
                node.Lease = await leases.UpdateAsync(Renewed(known, node, now), cancellationToken: cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (StatusException e) when (e.IsConflict() || e.IsNotFound())
            {
                // Someone else wrote it (or deleted it): read it again below.
                node.Lease = null;
            }
        }

        try
        {
            var lease = await leases.GetAsync(LeaseNamespace, node.Name, cancellationToken).ConfigureAwait(false);
            node.Lease = await leases.UpdateAsync(Renewed(lease, node, now), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            var owner = await client.Resource<Node>().GetAsync(null, node.Name, cancellationToken).ConfigureAwait(false);
            node.Lease = await leases.CreateAsync(new Lease
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

    private Lease Renewed(Lease lease, SimulatedNode node, DateTimeOffset now) =>
        lease with { Spec = (lease.Spec ?? new LeaseSpec()) with { HolderIdentity = node.Name, RenewTime = now, LeaseDurationSeconds = options.LeaseDurationSeconds } };

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} simulated nodes registered")]
    private static partial void LogReady(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat of simulated node {Node} failed: {Error}")]
    private static partial void LogHeartbeatFailed(ILogger logger, string node, string error);
}
