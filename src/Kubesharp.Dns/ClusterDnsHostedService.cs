using Kubesharp.Client.Informers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Dns;

/// <summary>Runs cluster DNS in a host.</summary>
internal sealed class ClusterDnsHostedService(SharedInformerFactory informers, ClusterDnsOptions options, ILogger<ClusterDnsServer> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => ClusterDns.RunAsync(informers, options, logger, stoppingToken);
}
