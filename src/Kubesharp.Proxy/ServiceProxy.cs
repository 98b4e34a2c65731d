using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.Client.Informers;
using Kubesharp.Proxy.Iptables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Proxy;

/// <summary>
/// kube-proxy's job in iptables mode: any Service or EndpointSlice change triggers a full, atomic resync of
/// the rules (coalesced by <see cref="ServiceProxyOptions.MinSyncInterval"/>); the rules go when it stops.
/// </summary>
public sealed partial class ServiceProxy
{
    private readonly SharedInformerFactory informers;
    private readonly ServiceProxyOptions options;
    private readonly IptablesRunner iptables;
    private readonly ILogger logger;
    private readonly BoundedFrequencyRunner runner;
    private IReadOnlySet<string> natChains = new HashSet<string>();
    private string? applied;
    private List<ServicePortRule> lastModel = [];

    public ServiceProxy(SharedInformerFactory informers, ServiceProxyOptions options, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(informers);
        ArgumentNullException.ThrowIfNull(options);
        this.informers = informers;
        this.options = options;
        this.logger = logger ?? NullLogger.Instance;
        runner = new BoundedFrequencyRunner(options.MinSyncInterval, options.SyncPeriod, timeProvider ?? TimeProvider.System);
        iptables = new IptablesRunner(new HostCommand([.. options.CommandPrefix]), options.Chains);
        informers.Informer<Service>().AddEventHandler(onAdd: _ => Changed(), onUpdate: (_, _) => Changed(), onDelete: _ => Changed());
        informers.Informer<EndpointSlice>().AddEventHandler(onAdd: _ => Changed(), onUpdate: (_, _) => Changed(), onDelete: _ => Changed());
    }

    /// <summary>Completed syncs, for callers that wait for a change to be in force.</summary>
    public long Syncs { get; private set; }

    /// <summary>Raised after each sync that applied rules.</summary>
    public event Action? Synced;

    /// <summary>Syncs until cancelled, then removes the rules.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        informers.Start(cancellationToken);
        await informers.WaitForCacheSyncAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await SyncAsync(cancellationToken).ConfigureAwait(false);
            await iptables.EnsureJumpsAsync(cancellationToken).ConfigureAwait(false);
            await runner.RunAsync(async (forced, ct) =>
            {
                try
                {
                    if (forced)
                    {
                        applied = null;
                        await iptables.EnsureJumpsAsync(ct).ConfigureAwait(false);
                    }

                    await SyncAsync(ct).ConfigureAwait(false);
                }
                catch (IptablesException e)
                {
                    LogSyncFailed(logger, e.Message);
                    runner.Request();
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await iptables.CleanupAsync(CancellationToken.None).ConfigureAwait(false);
            LogCleanedUp(logger);
        }
    }

    private void Changed() => runner.Request();

    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        var model = ServiceProxyModel.Build(informers.Lister<Service>().List().Where(s => ServiceProxyModel.HandledBy(s, options.ServiceProxyName)), informers.Lister<EndpointSlice>().List());
        var rules = IptablesRuleRenderer.Render(model, options, natChains);
        if (rules.Restore != applied)
        {
            await iptables.RestoreAsync(rules.Restore, cancellationToken).ConfigureAwait(false);
            applied = rules.Restore;
            natChains = rules.NatChains;
            LogSynced(logger, model.Count);
        }

        foreach (var (serviceIp, endpointIp) in StaleUdpFlows(lastModel, model))
        {
            await iptables.ClearUdpConntrackAsync(serviceIp, endpointIp, cancellationToken).ConfigureAwait(false);
        }

        lastModel = model;
        Syncs++;
        Synced?.Invoke();
    }

    /// <summary>UDP (service IP, endpoint IP) pairs that were usable before and are not now.</summary>
    public static IEnumerable<(string ServiceIp, string EndpointIp)> StaleUdpFlows(IReadOnlyList<ServicePortRule> before, IReadOnlyList<ServicePortRule> after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var now = after.Where(r => r.Protocol == "UDP").ToDictionary(r => r.Key, StringComparer.Ordinal);
        foreach (var rule in before.Where(r => r.Protocol == "UDP"))
        {
            var remaining = now.TryGetValue(rule.Key, out var current) ? current.UsableEndpoints.Select(e => e.Address).ToHashSet(StringComparer.Ordinal) : [];
            foreach (var endpoint in rule.UsableEndpoints.Where(e => !remaining.Contains(e.Address)))
            {
                foreach (var ip in rule.ClusterIps.Concat(rule.ExternalIps))
                {
                    yield return (ip, endpoint.Address);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Service rules synced for {Count} service ports")]
    private static partial void LogSynced(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Service rule sync failed: {Reason}")]
    private static partial void LogSyncFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Service rules removed")]
    private static partial void LogCleanedUp(ILogger logger);
}
