using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Networking.V1;
using Kubesharp.Client.Informers;
using Kubesharp.Proxy.Iptables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Proxy.NetworkPolicies;

/// <summary>
/// Enforces NetworkPolicies on this node: any NetworkPolicy, Pod or Namespace change triggers a full, atomic resync
/// of the filter rules (see <see cref="NetworkPolicyRuleRenderer"/>), coalesced by
/// <see cref="NetworkPolicyOptions.MinSyncInterval"/>; the rules go when it stops.
/// </summary>
public sealed partial class NetworkPolicyController
{
    private readonly SharedInformerFactory informers;
    private readonly NetworkPolicyOptions options;
    private readonly IptablesRunner iptables;
    private readonly ILogger logger;
    private readonly BoundedFrequencyRunner runner;
    private IReadOnlySet<string> chains = new HashSet<string>();
    private string? applied;

    public NetworkPolicyController(SharedInformerFactory informers, NetworkPolicyOptions options, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(informers);
        ArgumentNullException.ThrowIfNull(options);
        this.informers = informers;
        this.options = options;
        this.logger = logger ?? NullLogger.Instance;
        runner = new BoundedFrequencyRunner(options.MinSyncInterval, options.SyncPeriod, timeProvider ?? TimeProvider.System);
        iptables = new IptablesRunner(new HostCommand([.. options.CommandPrefix]));
        informers.Informer<NetworkPolicy>().AddEventHandler(onAdd: _ => Changed(), onUpdate: (_, _) => Changed(), onDelete: _ => Changed());
        informers.Informer<Pod>().AddEventHandler(onAdd: _ => Changed(), onUpdate: PodChanged, onDelete: _ => Changed());
        informers.Informer<Namespace>().AddEventHandler(onAdd: _ => Changed(), onUpdate: NamespaceChanged, onDelete: _ => Changed());
    }

    /// <summary>Completed syncs, for callers that wait for a change to be in force.</summary>
    public long Syncs { get; private set; }

    /// <summary>Raised after each sync.</summary>
    public event Action? Synced;

    /// <summary>Syncs until cancelled, then removes the rules.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        informers.Start(cancellationToken);
        await informers.WaitForCacheSyncAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await SyncAsync(cancellationToken).ConfigureAwait(false);
            await iptables.EnsureFirstJumpAsync("filter", "FORWARD", options.Chains.Dispatch, cancellationToken).ConfigureAwait(false);
            await runner.RunAsync(async (forced, ct) =>
            {
                try
                {
                    if (forced)
                    {
                        applied = null;
                    }

                    await SyncAsync(ct).ConfigureAwait(false);
                    // Others (the service proxy among them) insert at the top of FORWARD too: policies must come first.
                    await iptables.EnsureFirstJumpAsync("filter", "FORWARD", options.Chains.Dispatch, ct).ConfigureAwait(false);
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
            await iptables.RemoveChainsAsync(options.Chains.Owns, CancellationToken.None).ConfigureAwait(false);
            LogCleanedUp(logger);
        }
    }

    private void Changed() => runner.Request();

    // Pods change often (status, conditions); only labels, addresses, node, phase and ports matter here.
    private void PodChanged(Pod before, Pod after)
    {
        if (LabelsEqual(before.Metadata?.Labels, after.Metadata?.Labels) &&
            before.Status?.PodIP == after.Status?.PodIP && before.Status?.Phase == after.Status?.Phase &&
            before.Spec?.NodeName == after.Spec?.NodeName && before.Status?.PodIPs?.Count == after.Status?.PodIPs?.Count)
        {
            return;
        }

        Changed();
    }

    private void NamespaceChanged(Namespace before, Namespace after)
    {
        if (!LabelsEqual(before.Metadata?.Labels, after.Metadata?.Labels))
        {
            Changed();
        }
    }

    private static bool LabelsEqual(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a ?? new Dictionary<string, string>()).All(kv => b is not null && b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        var rules = NetworkPolicyRuleRenderer.Render(
            informers.Lister<NetworkPolicy>().List(),
            informers.Lister<Pod>().List(),
            informers.Lister<Namespace>().List(),
            options,
            chains);
        if (rules.Filter != applied)
        {
            await iptables.RestoreAsync(rules.Filter, cancellationToken).ConfigureAwait(false);
            applied = rules.Filter;
            chains = rules.Chains;
            LogSynced(logger, rules.IsolatedPods);
        }

        Syncs++;
        Synced?.Invoke();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Network policy rules synced; {Count} pods isolated")]
    private static partial void LogSynced(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Network policy rule sync failed: {Reason}")]
    private static partial void LogSyncFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Network policy rules removed")]
    private static partial void LogCleanedUp(ILogger logger);
}
