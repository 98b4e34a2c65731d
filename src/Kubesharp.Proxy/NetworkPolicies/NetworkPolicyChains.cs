using Kubesharp.Proxy.Iptables;

namespace Kubesharp.Proxy.NetworkPolicies;

/// <summary>
/// Filter-table chain names of network policy enforcement, under the proxy's prefix (so the agent's cleanup of that
/// prefix removes them too) and set apart by <c>-NW</c>: one dispatch chain, one chain per policy and direction, one
/// per isolated pod and direction.
/// </summary>
public sealed class NetworkPolicyChains(IptablesChains proxyChains)
{
    public static NetworkPolicyChains Default { get; } = new(IptablesChains.Default);

    private string Prefix => proxyChains.Prefix + "-NW";

    /// <summary>Jumped to from FORWARD: lets replies through and sends isolated pods' traffic to their chains.</summary>
    public string Dispatch => Prefix + "PLCY";

    public string Policy(string @namespace, string name, string direction) => Prefix + "P-" + IptablesChains.Hash($"{@namespace}/{name}/{direction}");

    public string PodIngress(string @namespace, string name) => Prefix + "I-" + IptablesChains.Hash($"{@namespace}/{name}");

    public string PodEgress(string @namespace, string name) => Prefix + "E-" + IptablesChains.Hash($"{@namespace}/{name}");

    /// <summary>Whether a chain belongs to network policy enforcement.</summary>
    public bool Owns(string chain) => chain.StartsWith(Prefix, StringComparison.Ordinal);
}
