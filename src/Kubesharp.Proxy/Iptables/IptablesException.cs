namespace Kubesharp.Proxy.Iptables;

/// <summary>iptables refused a change.</summary>
public sealed class IptablesException(string message) : Exception(message);
