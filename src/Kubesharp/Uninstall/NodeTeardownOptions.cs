namespace Kubesharp.Uninstall;

/// <summary>What <c>kubesharp killall</c> removes: everything of the install in <see cref="DataDir"/>.</summary>
internal sealed record NodeTeardownOptions
{
    public required string DataDir { get; init; }

    /// <summary>The prefix of the service proxy's and network policies' iptables chains.</summary>
    public string ChainPrefix { get; init; } = Kubesharp.Proxy.Iptables.IptablesChains.DefaultPrefix;

    /// <summary>The dummy link holding the cluster DNS address.</summary>
    public string DnsInterface { get; init; } = Kubesharp.NodeAgents.NodeAgentOptions.DefaultDnsInterface;

    /// <summary>How long stopped processes get to exit after SIGTERM before they are killed.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(10);
}
