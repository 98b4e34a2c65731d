using Kubesharp.Client;
using Kubesharp.Client.LeaderElection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager;

/// <summary>
/// The controller manager as a hosted service: while this process holds the kube-system/kube-controller-manager
/// Lease (or always, without leader election) the controllers run; losing the lease stops them.
/// </summary>
public sealed class ControllerManagerService(
    KubernetesClient client,
    ControllerManagerOptions options,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory) : BackgroundService
{
    public const string LeaseName = "kube-controller-manager";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.LeaderElect)
        {
            await ControllerManager.RunControllersAsync(client, options, timeProvider, loggerFactory, stoppingToken).ConfigureAwait(false);
            return;
        }

        var identity = options.Identity ?? $"{Environment.MachineName}_{Guid.NewGuid():N}";
        var elector = new LeaderElector(
            client,
            new LeaderElectionOptions { LeaseName = LeaseName, Identity = identity },
            timeProvider,
            loggerFactory.CreateLogger<LeaderElector>());
        try
        {
            await elector.RunAsync(ct => ControllerManager.RunControllersAsync(client, options, timeProvider, loggerFactory, ct), stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
