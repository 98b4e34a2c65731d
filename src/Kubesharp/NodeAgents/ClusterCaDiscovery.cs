using Kubesharp.ApiServer.Security;

namespace Kubesharp.NodeAgents;

/// <summary>
/// How a joining agent comes to trust the server: the CA it is given, or the CA the server serves when its hash
/// matches the pin in the join token. A server whose CA does not match is refused; there is no unverified way in.
/// </summary>
internal static class ClusterCaDiscovery
{
    /// <summary>The CA (PEM) to verify <paramref name="server"/> with; throws <see cref="ClusterCaMismatchException"/> when it cannot be trusted.</summary>
    public static async Task<string> ResolveAsync(Uri server, string? pinnedHash, string? caPem, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (caPem is not null)
        {
            if (pinnedHash is not null && JoinToken.CaHash(caPem) != pinnedHash)
            {
                throw new ClusterCaMismatchException("the given certificate authority does not match the CA hash in the token");
            }

            return caPem;
        }

        if (pinnedHash is null)
        {
            throw new ClusterCaMismatchException("the token does not pin the cluster CA (K10<hash>::…): give --certificate-authority or a token from `kubesharp token create`");
        }

        // The CA has to be fetched before it can verify anything: the fetch itself is unverified, so its answer counts
        // only when it hashes to the pin, and every later request is verified against it.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = static (_, _, _, _) => true };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var fetched = await http.GetStringAsync(new Uri(server, JoinToken.CaCertificatesPath), cancellationToken).ConfigureAwait(false);
        if (JoinToken.CaHash(fetched) != pinnedHash)
        {
            throw new ClusterCaMismatchException($"the server at {server} presents a CA whose hash {JoinToken.CaHash(fetched)} does not match the token's {pinnedHash}");
        }

        return fetched;
    }
}
