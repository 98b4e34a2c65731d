using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Kubesharp.ApiMachinery.HttpStreams;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Nodes;

/// <summary>
/// The API server's connection to node agents (logs, exec, attach, port-forward, stats): HTTPS to the node's
/// address and daemonEndpoints.kubeletEndpoint port, authenticated with a client certificate of the cluster CA
/// and, for agents that were given no CA, the node token. Agents serve self-signed certificates, so theirs is
/// not verified (as upstream without a kubelet CA).
/// </summary>
internal sealed class KubeletClient : IDisposable
{
    public const string User = "kube-apiserver-kubelet-client";

    // Issued on first use: a control plane without nodes never needs it, and start-up does not wait for it.
    private readonly Lazy<X509Certificate2> certificate;
    private readonly string? nodeToken;
    private readonly Lazy<HttpClient> http;
    private readonly Lazy<HttpMessageInvoker> forwarding;

    public KubeletClient(ClusterCertificates certificates, string? nodeToken, TimeProvider timeProvider)
    {
        certificate = new(() =>
        {
            var (certPem, keyPem) = certificates.IssueClientCertificate(User, [ClusterCertificates.MastersGroup], timeProvider);
            return X509Certificate2.CreateFromPem(certPem, keyPem);
        });
        this.nodeToken = nodeToken;
        http = new(() => new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            SslOptions = TlsOptions(),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        });
        forwarding = new(() => new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ActivityHeadersPropagator = null,
            SslOptions = TlsOptions(),
        }));
    }

    /// <summary>The node token agents without the cluster CA accept; null when there is none.</summary>
    public string? NodeToken => nodeToken;

    /// <summary>For the nodes/proxy forwarder: requests pass as they are (no redirects, cookies or decompression).</summary>
    public HttpMessageInvoker Forwarding => forwarding.Value;

    /// <summary>https://ADDRESS:PORT of a Node's agent: InternalIP first, then ExternalIP, then Hostname; null when it has none.</summary>
    public static Uri? EndpointOf(CachedObject node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!node.Root.TryGetProperty("status", out var status))
        {
            return null;
        }

        var port = status.TryGetProperty("daemonEndpoints", out var endpoints) && endpoints.TryGetProperty("kubeletEndpoint", out var kubelet)
            && kubelet.TryGetProperty("Port", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : 0;
        if (port <= 0 || !status.TryGetProperty("addresses", out var addresses) || addresses.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var type in (string[])["InternalIP", "ExternalIP", "Hostname"])
        {
            foreach (var address in addresses.EnumerateArray())
            {
                if (address.TryGetProperty("type", out var t) && t.GetString() == type && address.TryGetProperty("address", out var a) && a.GetString() is { Length: > 0 } host)
                {
                    var authority = IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host;
                    return new Uri($"https://{authority}:{port}");
                }
            }
        }

        return null;
    }

    public async Task<HttpResponseMessage> GetAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (nodeToken is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", nodeToken);
        }

        return await http.Value.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    public Task<UpgradeResponse> UpgradeAsync(Uri uri, string method, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        var all = headers.ToList();
        if (nodeToken is not null)
        {
            all.Add(new("Authorization", "Bearer " + nodeToken));
        }

        return HttpUpgrade.SendAsync(uri, method, all, TlsOptions(), cancellationToken);
    }

    public void Dispose()
    {
        if (http.IsValueCreated)
        {
            http.Value.Dispose();
        }

        if (forwarding.IsValueCreated)
        {
            forwarding.Value.Dispose();
        }

        if (certificate.IsValueCreated)
        {
            certificate.Value.Dispose();
        }
    }

    private SslClientAuthenticationOptions TlsOptions() => new()
    {
        ClientCertificates = [certificate.Value],
#pragma warning disable CA5359 // agents serve self-signed certificates that no CA vouches for
        RemoteCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
    };
}
