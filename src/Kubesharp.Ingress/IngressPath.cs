namespace Kubesharp.Ingress;

/// <summary>One path of a host's rules and the backend it routes to.</summary>
internal sealed record IngressPath(string Path, IngressPathType Type, IngressBackendPool Backend)
{
    /// <summary>
    /// Whether <paramref name="requestPath"/> matches: Exact compares the whole path; Prefix compares whole
    /// '/'-separated elements, a trailing slash on either side ignored (<c>/foo</c> matches <c>/foo/bar</c>, not <c>/foobar</c>).
    /// </summary>
    public bool Matches(string requestPath) => Matches(Path, Type, requestPath);

    /// <summary>The same rule for any path (HTTPRoute's Exact and PathPrefix compare as Ingress's Exact and Prefix).</summary>
    public static bool Matches(string path, IngressPathType type, string requestPath)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(requestPath);
        if (type == IngressPathType.Exact)
        {
            return string.Equals(requestPath, path, StringComparison.Ordinal);
        }

        var prefix = path.TrimEnd('/');
        if (prefix.Length == 0)
        {
            return true;
        }

        if (!requestPath.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        return requestPath.Length == prefix.Length || requestPath[prefix.Length] == '/';
    }

    /// <summary>Upstream's precedence among matching paths: the longest first, Exact before Prefix on a tie.</summary>
    public static int Precedence(IngressPath a, IngressPath b)
    {
        var byLength = b.Path.Length.CompareTo(a.Path.Length);
        return byLength != 0 ? byLength : a.Type.CompareTo(b.Type) * -1;
    }
}
