using System.Security.Cryptography;
using System.Text;

namespace Kubesharp.Proxy.Iptables;

/// <summary>
/// The proxy's chain names, all under one prefix so that two proxies on one host (a test cluster beside a
/// real one) never touch each other's rules. Per-service and per-endpoint chains carry a hash, staying
/// within iptables' 28 characters.
/// </summary>
public sealed class IptablesChains
{
    public const string DefaultPrefix = "KUBESHARP";

    /// <summary>Longest prefix that keeps "PREFIX-SVC-" plus the 12-character hash within 28 characters.</summary>
    public const int MaxPrefixLength = 11;

    public IptablesChains(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (prefix.Length > MaxPrefixLength || !prefix.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c)))
        {
            throw new ArgumentException($"Chain prefix '{prefix}' must be 1 to {MaxPrefixLength} upper-case letters or digits.", nameof(prefix));
        }

        Prefix = prefix;
    }

    public static IptablesChains Default { get; } = new(DefaultPrefix);

    public string Prefix { get; }

    public string Services => Prefix + "-SERVICES";

    public string NodePorts => Prefix + "-NODEPORTS";

    public string Postrouting => Prefix + "-POSTROUTING";

    public string MarkMasquerade => Prefix + "-MARK-MASQ";

    public string Forward => Prefix + "-FORWARD";

    /// <summary>Filter-table chain that rejects traffic to service ports without endpoints.</summary>
    public string Reject => Prefix + "-REJECT";

    public string ServicePrefix => Prefix + "-SVC-";

    public string EndpointPrefix => Prefix + "-SEP-";

    public string ServiceChain(ServicePortRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return ServicePrefix + Hash($"{rule.Key}/{rule.Protocol}");
    }

    public string EndpointChain(ServicePortRule rule, ServiceProxyEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(endpoint);
        return EndpointPrefix + Hash($"{rule.Key}/{rule.Protocol}/{endpoint.Address}:{endpoint.Port}");
    }

    /// <summary>Whether a chain name is one of ours.</summary>
    public bool Owns(string chain) => chain.StartsWith(Prefix + "-", StringComparison.Ordinal);

    internal static string Hash(string text)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return Convert.ToBase64String(digest).Replace('+', 'A').Replace('/', 'B')[..12].ToUpperInvariant();
    }
}
