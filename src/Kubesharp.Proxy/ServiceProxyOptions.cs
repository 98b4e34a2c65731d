namespace Kubesharp.Proxy;

/// <summary>How the service proxy programs the node.</summary>
public sealed class ServiceProxyOptions
{
    /// <summary>The pod CIDR of the cluster; traffic to services from outside it is masqueraded.</summary>
    public string ClusterCidr { get; set; } = Kubesharp.ApiMachinery.Networking.ClusterNetworkDefaults.ClusterCidr;

    /// <summary>Commands run prefixed with this (e.g. <c>ip netns exec NAME</c>); empty runs them directly.</summary>
    public IList<string> CommandPrefix { get; init; } = [];

    /// <summary>Coalesces bursts of changes into one sync (kube-proxy's minSyncPeriod).</summary>
    public TimeSpan MinSyncInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Full resync even without changes, repairing rules removed by others.</summary>
    public TimeSpan SyncPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The node's name, to prefer nothing yet but report endpoints as local.</summary>
    public string? NodeName { get; set; }

    /// <summary>Prefix of every chain the proxy owns (see <see cref="Iptables.IptablesChains"/>).</summary>
    public string ChainPrefix
    {
        get => Chains.Prefix;
        set => Chains = new Iptables.IptablesChains(value);
    }

    /// <summary>The chain names under <see cref="ChainPrefix"/>.</summary>
    public Iptables.IptablesChains Chains { get; private set; } = Iptables.IptablesChains.Default;

    /// <summary>
    /// The value of <c>service.kubernetes.io/service-proxy-name</c> this proxy handles; Services carrying the
    /// label with any other value (or any value, when null) are left to whoever serves them, as kube-proxy does.
    /// </summary>
    public string? ServiceProxyName { get; set; }

    /// <summary>The mark bit that asks POSTROUTING to masquerade.</summary>
    public int MasqueradeBit { get; set; } = 14;
}
