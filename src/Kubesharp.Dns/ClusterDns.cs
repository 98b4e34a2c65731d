using System.Net;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.Client.Informers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Dns;

/// <summary>Cluster DNS as one call: informers of Services, EndpointSlices and Pods, then the server until cancelled.</summary>
public static partial class ClusterDns
{
    public static async Task RunAsync(SharedInformerFactory informers, ClusterDnsOptions options, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(informers);
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        var zone = new ClusterDnsZone(options, informers.Informer<Service>().Indexer, informers.Informer<EndpointSlice>().Indexer, informers.Informer<Pod>().Indexer);
        informers.Start(cancellationToken);
        await informers.WaitForCacheSyncAsync(cancellationToken).ConfigureAwait(false);
        var upstreams = options.Upstreams.Count > 0 ? [.. options.Upstreams] : await ReadUpstreamsAsync(options, cancellationToken).ConfigureAwait(false);
        var link = options.InterfaceName is { } name ? new ClusterDnsLink(name, options.ListenEndpoint.Address) : null;
        try
        {
            if (link is not null)
            {
                await link.EnsureAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var server = new ClusterDnsServer(zone, new DnsForwarder(upstreams, options.ForwardTimeout), options, logger);
            server.Start();
            var upstreamList = string.Join(", ", upstreams);
            LogUpstreams(logger, upstreamList);
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (link is not null)
            {
                await link.RemoveAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private static async Task<List<IPEndPoint>> ReadUpstreamsAsync(ClusterDnsOptions options, CancellationToken cancellationToken)
    {
        var text = File.Exists(options.ResolvConfPath) ? await File.ReadAllTextAsync(options.ResolvConfPath, cancellationToken).ConfigureAwait(false) : string.Empty;
        return ClusterDnsUpstreams.FromResolvConf(text, options.ListenEndpoint);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster DNS forwards other names to {Upstreams}")]
    private static partial void LogUpstreams(ILogger logger, string upstreams);
}
