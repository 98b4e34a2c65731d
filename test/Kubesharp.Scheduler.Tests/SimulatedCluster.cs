using Kubesharp.Client.Tests;
using Kubesharp.Kubelet.Simulation;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Scheduler.Tests;

/// <summary>
/// An in-process API server with the controller manager, simulated nodes and a scheduler, started in that order and
/// stopped together. The node IPAM controller gives the nodes the pod CIDRs they need to become Ready.
/// </summary>
internal sealed class SimulatedCluster : IAsyncDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private Task controllers = Task.CompletedTask;

    private SimulatedCluster(TestApiServer server, int nodeCount)
    {
        Server = server;
        Nodes = new SimulatedNodeHost(server.Client, new SimulatedNodeOptions { Count = nodeCount, Cpu = "2" });
        Scheduler = new SchedulerService(server.Client);
    }

    public TestApiServer Server { get; }

    public SimulatedNodeHost Nodes { get; }

    public SchedulerService Scheduler { get; }

    public static async Task<SimulatedCluster> StartAsync(int nodeCount)
    {
        var cluster = new SimulatedCluster(await TestApiServer.StartAsync(), nodeCount);
        try
        {
            cluster.controllers = ControllerManager.ControllerManager.RunAsync(
                cluster.Server.Client, new ControllerManager.ControllerManagerOptions { LeaderElect = false }, TimeProvider.System, NullLoggerFactory.Instance, cluster.stopping.Token);
            await cluster.Nodes.StartAsync(CancellationToken.None);
            await cluster.Nodes.Ready.WaitAsync(TimeSpan.FromSeconds(60));
            await cluster.Scheduler.StartAsync(CancellationToken.None);
            await cluster.Scheduler.Started.WaitAsync(TimeSpan.FromSeconds(60));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Scheduler.StopAsync(CancellationToken.None);
        await Nodes.StopAsync(CancellationToken.None);
        await stopping.CancelAsync();
        await controllers;
        Scheduler.Dispose();
        Nodes.Dispose();
        stopping.Dispose();
        await Server.DisposeAsync();
    }
}
