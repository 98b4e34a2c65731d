using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Security;
using Kubesharp.NodeAgents;
using Kubesharp.Storage.Etcd;

namespace Kubesharp.EmbeddedEtcd;

/// <summary>
/// <c>kubesharp server --server URL --token TOKEN</c>: a further server of a <c>--cluster-init</c> cluster. It trusts the
/// first server by the CA pin in the token, takes over the cluster's CA, keys and token file from it (an endpoint only
/// the server token may read), then adds its etcd member to the cluster through the etcd client URL it was given.
/// </summary>
internal static class ServerJoin
{
    public const string BootstrapPath = "/v1-kubesharp/server-bootstrap";

    /// <summary>Writes the cluster's shared files into <paramref name="dataDirectory"/>; returns the etcd client URL to join through.</summary>
    public static async Task<string> FetchBootstrapAsync(Uri server, string token, string dataDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        var (pinnedHash, credentials) = JoinToken.Parse(token);
        if (pinnedHash is null)
        {
            throw new ClusterCaMismatchException("joining a server needs the server token with its CA pin (K10<hash>::…, DATA/server/token of the first server)");
        }

        var caPem = await ClusterCaDiscovery.ResolveAsync(server, pinnedHash, null, cancellationToken).ConfigureAwait(false);
        var localCa = Path.Combine(dataDirectory, "server", "tls", "ca.crt");
        if (File.Exists(localCa) && JoinToken.CaHash(await File.ReadAllTextAsync(localCa, cancellationToken).ConfigureAwait(false)) != pinnedHash)
        {
            throw new ClusterCaMismatchException($"{dataDirectory} already holds another cluster's CA; a joining server needs a data directory of its own");
        }

        using var ca = X509Certificate2.CreateFromPem(caPem);
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate is not null && IssuedBy(certificate, ca),
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server, BootstrapPath));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credentials);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var message = JsonNode.Parse(body)?["message"]?.GetValue<string>() ?? body;
            throw new InvalidOperationException($"{server} refused to hand over the cluster's bootstrap data ({(int)response.StatusCode}): {message}");
        }

        var answer = JsonNode.Parse(body)!.AsObject();
        foreach (var (relative, content) in answer["files"]!.AsObject())
        {
            if (!ServerBootstrapFiles.Contains(relative))
            {
                continue;
            }

            var path = Path.Combine(dataDirectory, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, content!.GetValue<string>(), cancellationToken).ConfigureAwait(false);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        return answer["etcdClientUrl"]!.GetValue<string>();
    }

    /// <summary>
    /// Adds this server's member to the cluster (once: a data directory that already holds etcd data is a member that
    /// restarts) and returns the initial cluster to start it with, or null when the member only restarts.
    /// </summary>
    public static async Task<string?> AddMemberAsync(EtcdMemberLayout layout, string name, string peerUrl, string etcdClientUrl, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (Directory.Exists(Path.Combine(layout.DataDir, "member")))
        {
            return null;
        }

        var dataDirectory = Path.GetDirectoryName(Path.GetDirectoryName(layout.Root))!;
        ClusterCertificates.IssueFromClusterCa(dataDirectory, "CN=kube-apiserver-etcd-client", [], serverAuth: false, clientAuth: true, layout.ClientCertFile, layout.ClientKeyFile, timeProvider);
        await using var etcd = await EtcdStore.OpenAsync(
            new EtcdStoreOptions { Endpoints = [etcdClientUrl], UseTls = true, CaFile = layout.CaFile, CertFile = layout.ClientCertFile, KeyFile = layout.ClientKeyFile, RequestTimeout = TimeSpan.FromSeconds(15) },
            cancellationToken).ConfigureAwait(false);
        var members = (await etcd.MemberListAsync(cancellationToken).ConfigureAwait(false)).Members.ToList();
        var mine = members.FirstOrDefault(m => m.PeerURLs.Contains(peerUrl));
        if (mine is { Name.Length: > 0 })
        {
            // A started member of ours whose data is gone: it cannot come back as it was, so it is replaced.
            await etcd.MemberRemoveAsync(mine.ID, cancellationToken).ConfigureAwait(false);
            mine = null;
        }

        if (mine is null)
        {
            var added = await AddMemberAsync(etcd, peerUrl, timeProvider, cancellationToken).ConfigureAwait(false);
            mine = added.Member;
            members = [.. added.Members];
        }

        return string.Join(',', members.Select(m => $"{(m.ID == mine.ID ? name : m.Name is { Length: > 0 } known ? known : $"pending-{m.ID:x}")}={(m.ID == mine.ID ? peerUrl : m.PeerURLs[0])}"));
    }

    // etcd refuses a member while the cluster is not yet healthy, as in the seconds after the previous member joined
    // (its strict reconfiguration check): try again for a minute before giving up.
    private static async Task<Kubesharp.Storage.Etcd.Protocol.MemberAddResponse> AddMemberAsync(EtcdStore etcd, string peerUrl, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await etcd.MemberAddAsync([peerUrl], cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < 60 && ex is not OperationCanceledException && ex.Message.Contains("unhealthy cluster", StringComparison.Ordinal))
            {
                await Task.Delay(TimeSpan.FromSeconds(1), timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static bool IssuedBy(X509Certificate2 certificate, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static readonly HashSet<string> ServerBootstrapFiles = new(StringComparer.Ordinal)
    {
        "server/tls/ca.crt", "server/tls/ca.key", "server/tls/service.key", "server/token-auth.csv", "server/cred/encryption-config.json",
    };
}
