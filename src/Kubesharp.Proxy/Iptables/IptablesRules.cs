namespace Kubesharp.Proxy.Iptables;

/// <summary>The iptables-restore input for the nat and filter tables, and the chains it defines.</summary>
public sealed record IptablesRules(string Nat, string Filter, IReadOnlySet<string> NatChains)
{
    /// <summary>Both tables, ready for one <c>iptables-restore --noflush</c>.</summary>
    public string Restore => Filter + Nat;
}
