using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Webhooks;

/// <summary>
/// Posts a review to a webhook over HTTPS, as both admission and custom resource conversion webhooks are called: the
/// serving certificate verified against the webhook's caBundle (the system's roots without one), a service resolved
/// to its endpoints (or its cluster IP) while TLS checks the name NAME.NAMESPACE.svc, the timeout sent as a query
/// parameter. One pooled client per caBundle.
/// </summary>
internal sealed class WebhookClient(ResourceRegistry registry) : IDisposable
{
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);

    /// <summary>
    /// Posts <paramref name="review"/> and returns the parsed answer. A call that fails or answers with an error status is
    /// a <see cref="WebhookCallException"/> worded as upstream's client words it (<c>Post "URL": …</c>); a body that is
    /// not JSON is a <see cref="JsonException"/>.
    /// </summary>
    public async Task<JsonNode?> PostAsync(Uri address, string caBundle, TimeSpan timeout, JsonObject review, CancellationToken cancellationToken)
    {
        var builder = new UriBuilder(address);
        var timeoutParameter = "timeout=" + timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s";
        builder.Query = string.IsNullOrEmpty(builder.Query) ? timeoutParameter : builder.Query.TrimStart('?') + "&" + timeoutParameter;
        var url = builder.Uri;
        var client = ClientFor(caBundle);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        string body;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(review, Caching.StoredJsonContext.Default.JsonObject)),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline.Token).ConfigureAwait(false);
            body = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new WebhookCallException($"the server responded with the status code {(int)response.StatusCode} but did not return more information");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WebhookCallException($"Post \"{url}\": context deadline exceeded");
        }
        catch (HttpRequestException e)
        {
            throw new WebhookCallException($"Post \"{url}\": {Describe(e, url)}", e);
        }

        return JsonNode.Parse(body);
    }

    private static string Describe(HttpRequestException e, Uri url)
    {
        if (e.InnerException is SocketException socket)
        {
            var what = socket.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connect: connection refused",
                SocketError.HostNotFound or SocketError.NoData => "no such host",
                _ => socket.Message,
            };
            return $"dial tcp {url.Host}:{url.Port}: {what}";
        }

        if (e.InnerException is System.Security.Authentication.AuthenticationException)
        {
            return "tls: failed to verify certificate: x509: certificate signed by unknown authority";
        }

        return e.Message;
    }

    private HttpClient ClientFor(string caBundle) => _clients.GetOrAdd(caBundle, bundle =>
    {
        var roots = new X509Certificate2Collection();
        if (bundle.Length > 0)
        {
            try
            {
                roots.ImportFromPem(bundle);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // An unreadable bundle trusts nothing: every call fails verification.
            }
        }

        var handler = new SocketsHttpHandler
        {
            // Service endpoints move; connections are not kept long.
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
            ConnectCallback = ConnectAsync,
        };
        if (bundle.Length > 0)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || roots.Count == 0 || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                using var presented = new X509Certificate2(certificate);
                return chain.Build(presented);
            };
        }

        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    });

    /// <summary>Connects to a URL's host, or for NAME.NAMESPACE.svc to the service's endpoint (or cluster IP).</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var target = context.DnsEndPoint;
        EndPoint endpoint = target;
        if (target.Host.EndsWith(".svc", StringComparison.Ordinal) && target.Host.Split('.') is [var name, var ns, "svc"])
        {
            endpoint = ResolveService(ns, name, target.Port) ?? throw new HttpRequestException(
                $"service \"{name}\" not found or has no endpoints", new SocketException((int)SocketError.HostNotFound));
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private IPEndPoint? ResolveService(string @namespace, string name, int port)
    {
        var services = registry.FindByGroupResource("services");
        var service = services is null ? null : registry.Get(services, @namespace, name)?.ToNode();
        if (service is null)
        {
            return null;
        }

        var servicePort = (service["spec"]?["ports"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(p => JsonNumber.Int64(p["port"]) == port);
        var portName = (string?)servicePort?["name"] ?? string.Empty;
        var endpointsResource = registry.FindByGroupResource("endpoints");
        var endpoints = endpointsResource is null ? null : registry.Get(endpointsResource, @namespace, name)?.ToNode();
        foreach (var subset in (endpoints?["subsets"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            var ports = (subset["ports"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
            var chosen = ports.FirstOrDefault(p => ((string?)p["name"] ?? string.Empty) == portName) ?? (ports.Count == 1 ? ports[0] : null);
            var address = (subset["addresses"] as JsonArray)?.OfType<JsonObject>().Select(a => (string?)a["ip"]).FirstOrDefault(ip => ip is not null);
            if (chosen is not null && address is not null && IPAddress.TryParse(address, out var ip) && JsonNumber.Int64(chosen["port"]) is { } target)
            {
                return new IPEndPoint(ip, (int)target);
            }
        }

        return (string?)service["spec"]?["clusterIP"] is { } clusterIp && IPAddress.TryParse(clusterIp, out var cluster) ? new IPEndPoint(cluster, port) : null;
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }
}
