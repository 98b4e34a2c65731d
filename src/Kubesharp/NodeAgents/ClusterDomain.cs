namespace Kubesharp.NodeAgents;

/// <summary>The cluster's DNS domain (<c>--cluster-domain</c>): what services and pods are named under.</summary>
internal static class ClusterDomain
{
    public const string Default = "cluster.local";

    /// <summary>
    /// Accepts a DNS subdomain (labels of letters, digits and inner hyphens, 253 characters at most), ignoring
    /// case and one trailing dot, as the kubelet and cluster DNS expect it.
    /// </summary>
    public static bool TryParse(string? text, out string domain)
    {
        domain = (text ?? string.Empty).Trim().TrimEnd('.').ToLowerInvariant();
        if (domain.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in domain.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
