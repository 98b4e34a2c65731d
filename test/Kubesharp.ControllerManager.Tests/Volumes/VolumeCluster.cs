using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Tests;
using Kubesharp.Kubelet.Simulation;
using Kubesharp.Scheduler;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.ControllerManager.Tests.Volumes;

/// <summary>
/// An in-process API server with the controller manager, the scheduler and four simulated nodes (untainted) that
/// provision local-path volumes on paper: claims, volumes and pods go through the real binder and scheduler.
/// </summary>
#pragma warning disable CA1001 // disposed through IAsyncLifetime.DisposeAsync
public sealed class VolumeCluster : IAsyncLifetime
#pragma warning restore CA1001
{
    private readonly CancellationTokenSource stopping = new();
    private TestApiServer? server;
    private Task? controllers;
    private SchedulerService? scheduler;
    private SimulatedNodeHost? nodes;

    public const int NodeCount = 4;

    public KubernetesClient Client => server!.Client;

    public async Task InitializeAsync()
    {
        server = await TestApiServer.StartAsync();
        nodes = new SimulatedNodeHost(Client, new SimulatedNodeOptions { Count = NodeCount, Taint = false, Pods = 200 });
        await nodes.StartAsync(CancellationToken.None);
        await nodes.Ready.WaitAsync(TimeSpan.FromMinutes(1));
        scheduler = new SchedulerService(Client, new SchedulerOptions(), timeProvider: TimeProvider.System);
        await scheduler.StartAsync(CancellationToken.None);
        controllers = ControllerManager.RunAsync(Client, new ControllerManagerOptions { LeaderElect = false }, TimeProvider.System, NullLoggerFactory.Instance, stopping.Token);
    }

    public async Task<string> NewNamespaceAsync()
    {
        var name = "v-" + Guid.NewGuid().ToString("N")[..10];
        await Client.Resource<Namespace>().CreateAsync(new Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new ObjectMeta { Name = name } });
        return name;
    }

    public async Task DisposeAsync()
    {
        await stopping.CancelAsync();
        if (controllers is not null)
        {
            await controllers;
        }

        if (scheduler is not null)
        {
            await scheduler.StopAsync(CancellationToken.None);
            scheduler.Dispose();
        }

        if (nodes is not null)
        {
            await nodes.StopAsync(CancellationToken.None);
            nodes.Dispose();
        }

        if (server is not null)
        {
            await server.DisposeAsync();
        }

        stopping.Dispose();
    }
}
