namespace Kubesharp.Proxy.NetworkPolicies;

/// <summary>How a node enforces NetworkPolicies.</summary>
public sealed class NetworkPolicyOptions
{
    /// <summary>This node: only its pods are isolated here (their peers may run anywhere). Null isolates every pod.</summary>
    public string? NodeName { get; set; }

    public NetworkPolicyChains Chains { get; set; } = NetworkPolicyChains.Default;

    /// <summary>Commands run prefixed with this (e.g. <c>ip netns exec NAME</c>); empty runs them directly.</summary>
    public IList<string> CommandPrefix { get; init; } = [];

    /// <summary>Coalesces bursts of changes into one sync.</summary>
    public TimeSpan MinSyncInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Full resync even without changes, repairing rules removed by others.</summary>
    public TimeSpan SyncPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The mark bit a policy sets on a packet it allows (the proxy's masquerade bit is another).</summary>
    public int MarkBit { get; set; } = 17;

    /// <summary>Enforcement beside a service proxy: the same chain prefix, commands and node.</summary>
    public static NetworkPolicyOptions For(ServiceProxyOptions proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        return new NetworkPolicyOptions
        {
            NodeName = proxy.NodeName,
            Chains = new NetworkPolicyChains(proxy.Chains),
            CommandPrefix = proxy.CommandPrefix,
            MinSyncInterval = proxy.MinSyncInterval,
            SyncPeriod = proxy.SyncPeriod,
        };
    }
}
