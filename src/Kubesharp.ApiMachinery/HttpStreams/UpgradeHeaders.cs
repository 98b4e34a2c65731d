namespace Kubesharp.ApiMachinery.HttpStreams;

/// <summary>Which headers of an upgrade travel to the next hop, and which of its 101 answer travel back.</summary>
public static class UpgradeHeaders
{
    /// <summary>The streaming protocols a SPDY client offers and the server picks (remote command and port-forward versions).</summary>
    public const string StreamProtocolVersion = "X-Stream-Protocol-Version";

    /// <summary>The request headers an upgrade proxy forwards; credentials and hop-by-hop headers stay behind.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Forwarded(IEnumerable<KeyValuePair<string, IEnumerable<string>>> requestHeaders)
    {
        ArgumentNullException.ThrowIfNull(requestHeaders);
        yield return new("Connection", "Upgrade");
        foreach (var (name, values) in requestHeaders)
        {
            if (IsEndToEnd(name))
            {
                foreach (var value in values)
                {
                    yield return new(name, value);
                }
            }
        }
    }

    /// <summary>Response headers of a 101 that the proxy copies to its own 101 (Connection is the proxy's to set).</summary>
    public static bool IsRelayedResponseHeader(string name) => IsEndToEnd(name) || string.Equals(name, "Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase);

    private static bool IsEndToEnd(string name) =>
        string.Equals(name, "Upgrade", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, StreamProtocolVersion, StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "User-Agent", StringComparison.OrdinalIgnoreCase)
        || (name.StartsWith("Sec-WebSocket-", StringComparison.OrdinalIgnoreCase) && !string.Equals(name, "Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase));
}
