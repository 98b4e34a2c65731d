using Kubesharp.Kubelet.Runtime;
using Microsoft.Extensions.Logging;

namespace Kubesharp.NodeAgents;

/// <summary>
/// The server's containerd, started while its API server starts: containerd needs no API and is most of a
/// node's start-up time. The node's kubelet takes it over; if the server stops before that, it is stopped here.
/// </summary>
internal sealed class StartingContainerRuntime : IAsyncDisposable
{
    private readonly Task<ContainerRuntime> starting;
    private bool handedOver;

    private StartingContainerRuntime(Task<ContainerRuntime> starting) => this.starting = starting;

    /// <summary>Starts containerd for a node whose data directory is <paramref name="agentDataDir"/>, pulling as <paramref name="registriesFile"/> says.</summary>
    public static StartingContainerRuntime Start(string agentDataDir, string? registriesFile, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var options = new ContainerRuntimeOptions { Containerd = new ContainerdOptions { DataDir = agentDataDir, RegistriesFile = registriesFile } };
        return new StartingContainerRuntime(Task.Run(() => ContainerRuntime.StartAsync(options, loggerFactory, TimeProvider.System, cancellationToken), cancellationToken));
    }

    /// <summary>Gives the runtime to its kubelet, which stops it from then on.</summary>
    public Task<ContainerRuntime> HandOver()
    {
        handedOver = true;
        return starting;
    }

    public async ValueTask DisposeAsync()
    {
        if (handedOver)
        {
            return;
        }

        try
        {
            var runtime = await starting.ConfigureAwait(false);
            await runtime.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // It never started (or the server is stopping anyway): nothing is left to stop.
        }
    }
}
