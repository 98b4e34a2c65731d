using Kubesharp.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager;

/// <summary>The controller manager as a hosted service (leader-elected unless the options turn it off).</summary>
public sealed class ControllerManagerService(
    KubernetesClient client,
    ControllerManagerOptions options,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        ControllerManager.RunAsync(client, options, timeProvider, loggerFactory, stoppingToken);
}
