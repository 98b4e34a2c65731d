using System.Net;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.Client.Informers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Dns;

/// <summary>Runs cluster DNS in a host: informers of Services, EndpointSlices and Pods, then the server.</summary>
internal sealed partial class ClusterDnsHostedService(SharedInformerFactory informers, ClusterDnsOptions options, ILogger<ClusterDnsHostedService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var zone = new ClusterDnsZone(options, informers.Informer<Service>().Indexer, informers.Informer<EndpointSlice>().Indexer, informers.Informer<Pod>().Indexer);
        informers.Start(stoppingToken);
        await informers.WaitForCacheSyncAsync(stoppingToken).ConfigureAwait(false);
        var upstreams = options.Upstreams.Count > 0 ? [.. options.Upstreams] : await ReadUpstreamsAsync(stoppingToken).ConfigureAwait(false);
        await using var server = new ClusterDnsServer(zone, new DnsForwarder(upstreams, options.ForwardTimeout), options, logger);
        server.Start();
        LogUpstreams(logger, string.Join(", ", upstreams));
        await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
    }

    private async Task<List<IPEndPoint>> ReadUpstreamsAsync(CancellationToken cancellationToken)
    {
        var text = File.Exists(options.ResolvConfPath) ? await File.ReadAllTextAsync(options.ResolvConfPath, cancellationToken).ConfigureAwait(false) : string.Empty;
        return ClusterDnsUpstreams.FromResolvConf(text, options.ListenEndpoint);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster DNS forwards other names to {Upstreams}")]
    private static partial void LogUpstreams(ILogger logger, string upstreams);
}
