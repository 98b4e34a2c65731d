using Kubesharp.Client.Informers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Proxy;

/// <summary>Runs the service proxy in a host; stopping the host removes the rules.</summary>
internal sealed class ServiceProxyHostedService(SharedInformerFactory informers, ServiceProxyOptions options, ILogger<ServiceProxy> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        new ServiceProxy(informers, options, logger).RunAsync(stoppingToken);
}
