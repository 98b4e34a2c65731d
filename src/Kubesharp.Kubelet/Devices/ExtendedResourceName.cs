namespace Kubesharp.Kubelet.Devices;

/// <summary>Upstream's rule for extended resources (device plugin resources, simulated GPUs).</summary>
public static class ExtendedResourceName
{
    /// <summary>A DOMAIN/NAME with a domain outside kubernetes.io, and not a quota name (requests.*).</summary>
    public static bool IsValid(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == name.Length - 1 || name.StartsWith("requests.", StringComparison.Ordinal) || slash != name.LastIndexOf('/'))
        {
            return false;
        }

        var domain = name[..slash];
        if (domain == "kubernetes.io" || domain.EndsWith(".kubernetes.io", StringComparison.Ordinal) || domain.Length > 253)
        {
            return false;
        }

        var local = name[(slash + 1)..];
        return Uri.CheckHostName(domain) == UriHostNameType.Dns
            && local.Length <= 63
            && char.IsAsciiLetterOrDigit(local[0]) && char.IsAsciiLetterOrDigit(local[^1])
            && local.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
    }
}
