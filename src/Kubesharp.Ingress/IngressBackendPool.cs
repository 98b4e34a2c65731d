namespace Kubesharp.Ingress;

/// <summary>
/// One Service port as an Ingress names it: the ready endpoints behind it, taken in turn. No endpoints means the
/// Service exists in the Ingress but nothing can serve it (503), as upstream controllers answer.
/// </summary>
internal sealed class IngressBackendPool(string service, string[] destinations)
{
    private int next = -1;

    /// <summary><c>namespace/name:port</c>, for logs and tests.</summary>
    public string Service { get; } = service;

    /// <summary>Destination prefixes such as <c>http://10.42.0.7:8080</c>.</summary>
    public IReadOnlyList<string> Destinations => destinations;

    /// <summary>The next destination in round-robin order, or null when no endpoint is ready.</summary>
    public string? Next()
    {
        if (destinations.Length == 0)
        {
            return null;
        }

        var turn = (uint)Interlocked.Increment(ref next);
        return destinations[turn % (uint)destinations.Length];
    }
}
