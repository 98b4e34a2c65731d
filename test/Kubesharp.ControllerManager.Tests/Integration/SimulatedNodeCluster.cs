using Kubesharp.Client;
using Kubesharp.Client.Tests;
using Kubesharp.Kubelet.Simulation;
using Kubesharp.Scheduler;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.ControllerManager.Tests.Integration;

/// <summary>
/// An in-process API server with the controller manager, the scheduler and simulated nodes (untainted), all
/// through the API as in <c>kubesharp server --simulated-nodes</c>. More nodes join with <see cref="AddNodesAsync"/>.
/// </summary>
internal sealed class SimulatedNodeCluster : IAsyncDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private readonly List<SimulatedNodeHost> nodeHosts = [];
    private TestApiServer server = null!;
    private SchedulerService scheduler = null!;
    private Task controllers = Task.CompletedTask;

    public KubernetesClient Client => server.Client;

    public static async Task<SimulatedNodeCluster> StartAsync(int nodes)
    {
        var cluster = new SimulatedNodeCluster();
        cluster.server = await TestApiServer.StartAsync();

        // As kubesharp server does: a default local-path class, which the simulated nodes provision on paper.
        await cluster.Client.Resource<Kubesharp.Api.Storage.V1.StorageClass>().CreateAsync(new Kubesharp.Api.Storage.V1.StorageClass
        {
            ApiVersion = "storage.k8s.io/v1",
            Kind = "StorageClass",
            Metadata = new Kubesharp.ApiMachinery.Meta.V1.ObjectMeta { Name = "local-path", Annotations = new() { ["storageclass.kubernetes.io/is-default-class"] = "true" } },
            Provisioner = "rancher.io/local-path",
            VolumeBindingMode = "WaitForFirstConsumer",
            ReclaimPolicy = "Delete",
        });
        await cluster.AddNodesAsync("sim-node-", nodes);
        cluster.scheduler = new SchedulerService(cluster.Client);
        await cluster.scheduler.StartAsync(CancellationToken.None);
        await cluster.scheduler.Started.WaitAsync(TimeSpan.FromSeconds(60));
        cluster.controllers = ControllerManager.RunAsync(
            cluster.Client,
            new ControllerManagerOptions { LeaderElect = false, PodGcPeriod = TimeSpan.FromSeconds(1) },
            TimeProvider.System,
            NullLoggerFactory.Instance,
            cluster.stopping.Token);
        return cluster;
    }

    /// <summary>Starts <paramref name="count"/> more simulated nodes named <paramref name="prefix"/>N; returns their host.</summary>
    public async Task<SimulatedNodeHost> AddNodesAsync(string prefix, int count)
    {
        var host = new SimulatedNodeHost(Client, new SimulatedNodeOptions { Count = count, NamePrefix = prefix, Taint = false });
        nodeHosts.Add(host);
        await host.StartAsync(CancellationToken.None);
        await host.Ready.WaitAsync(TimeSpan.FromSeconds(60));
        return host;
    }

    /// <summary>Stops a node host: its nodes stop heartbeating and serving pods.</summary>
    public async Task StopNodesAsync(SimulatedNodeHost host)
    {
        nodeHosts.Remove(host);
        await host.StopAsync(CancellationToken.None);
        host.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await controllers;
        await scheduler.StopAsync(CancellationToken.None);
        scheduler.Dispose();
        foreach (var host in nodeHosts)
        {
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
        }

        await server.DisposeAsync();
        stopping.Dispose();
    }
}
