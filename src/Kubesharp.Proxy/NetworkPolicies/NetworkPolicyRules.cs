namespace Kubesharp.Proxy.NetworkPolicies;

/// <summary>The iptables-restore input for the filter table, the chains it defines and how many pods it isolates.</summary>
public sealed record NetworkPolicyRules(string Filter, IReadOnlySet<string> Chains, int IsolatedPods);
