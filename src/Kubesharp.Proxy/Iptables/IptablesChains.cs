using System.Security.Cryptography;
using System.Text;

namespace Kubesharp.Proxy.Iptables;

/// <summary>The proxy's chain names. Per-service and per-endpoint chains carry a hash, staying within iptables' 28 characters.</summary>
public static class IptablesChains
{
    public const string Services = "KUBESHARP-SERVICES";
    public const string NodePorts = "KUBESHARP-NODEPORTS";
    public const string Postrouting = "KUBESHARP-POSTROUTING";
    public const string MarkMasquerade = "KUBESHARP-MARK-MASQ";
    public const string Forward = "KUBESHARP-FORWARD";

    /// <summary>Filter-table chain that rejects traffic to service ports without endpoints.</summary>
    public const string Reject = "KUBESHARP-REJECT";

    public const string ServicePrefix = "KUBESHARP-SVC-";
    public const string EndpointPrefix = "KUBESHARP-SEP-";

    public static string ServiceChain(ServicePortRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return ServicePrefix + Hash($"{rule.Key}/{rule.Protocol}");
    }

    public static string EndpointChain(ServicePortRule rule, ServiceProxyEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(endpoint);
        return EndpointPrefix + Hash($"{rule.Key}/{rule.Protocol}/{endpoint.Address}:{endpoint.Port}");
    }

    private static string Hash(string text)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return Convert.ToBase64String(digest).Replace('+', 'A').Replace('/', 'B')[..12].ToUpperInvariant();
    }
}
