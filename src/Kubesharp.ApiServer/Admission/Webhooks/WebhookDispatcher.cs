using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Cel;
using Kubesharp.ApiServer.Admission.Cel;
using Kubesharp.ApiServer.Admission.Matching;
using Kubesharp.ApiServer.Authorization;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Admission.Webhooks;

/// <summary>
/// Decides which webhooks a request reaches (rules, matchPolicy, namespace and object selectors, matchConditions) and calls them:
/// an AdmissionReview v1 posted over HTTPS, the serving certificate verified against the webhook's caBundle, a
/// service resolved to its endpoints (or its cluster IP) while TLS checks the name NAME.NAMESPACE.svc.
/// </summary>
internal sealed partial class WebhookDispatcher : IDisposable
{
    private readonly ResourceRegistry _registry;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);

    private readonly AdmissionMatcher _matcher;
    private readonly Lazy<RequestAuthorizer> _authorizer;

    public WebhookDispatcher(ResourceRegistry registry, AdmissionMatcher matcher, Lazy<RequestAuthorizer> authorizer, ILogger logger)
    {
        _authorizer = authorizer;
        _registry = registry;
        _matcher = matcher;
        _logger = logger;
    }

    public ILogger Logger => _logger;

    /// <summary>
    /// The shared prologue of both webhook plugins: the webhooks the request reaches (rules and selectors, then
    /// matchConditions), refusing a dry run a matching webhook cannot take. A match condition that fails to evaluate
    /// counts as a failed call: skipped under failurePolicy Ignore, refused under Fail.
    /// </summary>
    public List<Webhook> Select(IReadOnlyList<Webhook> webhooks, AdmissionAttributes attributes)
    {
        var selected = new List<Webhook>();
        Dictionary<string, object?>? activation = null;
        foreach (var webhook in webhooks)
        {
            if (!_matcher.Matches(webhook.Match, attributes))
            {
                continue;
            }

            if (!webhook.Conditions.IsEmpty)
            {
                activation ??= new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["object"] = CelValue.FromJson(attributes.Object),
                    ["oldObject"] = CelValue.FromJson(attributes.OldObject),
                    ["request"] = CelValue.FromJson(AdmissionRequest.Build(attributes, uid: null, withObjects: false)),
                    ["authorizer"] = new CelAuthorizerValue(new AdmissionAuthorizer(_authorizer.Value, attributes.User)),
                };
                var budget = AdmissionExpressions.MatchConditionsCostBudget;
                var matches = webhook.Conditions.Matches(activation, ref budget, out var error);
                if (error is not null)
                {
                    if (webhook.FailOpen)
                    {
                        LogFailedOpen(_logger, webhook.Name, error);
                        continue;
                    }

                    throw CallFailed(webhook, new WebhookCallException(error));
                }

                if (!matches)
                {
                    continue;
                }
            }

            if (attributes.DryRun && !webhook.DryRunSafe)
            {
                throw StatusError.BadRequest($"admission webhook \"{webhook.Name}\" does not support dry run");
            }

            selected.Add(webhook);
        }

        return selected;
    }

    /// <summary>Posts the AdmissionReview and returns its response; failures are <see cref="WebhookCallException"/>s.</summary>
    public async Task<JsonObject> CallAsync(Webhook webhook, AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        var uid = Guid.NewGuid().ToString();
        var review = Review(uid, attributes);
        var timeout = webhook.Timeout;
        var address = new UriBuilder(webhook.Address);
        var timeoutParameter = "timeout=" + timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s";
        address.Query = string.IsNullOrEmpty(address.Query) ? timeoutParameter : address.Query.TrimStart('?') + "&" + timeoutParameter;
        var url = address.Uri;
        var client = ClientFor(webhook.CaBundle);
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
                throw new WebhookCallException($"failed to call webhook: the server responded with the status code {(int)response.StatusCode} but did not return more information");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WebhookCallException($"failed to call webhook: Post \"{url}\": context deadline exceeded");
        }
        catch (HttpRequestException e)
        {
            throw new WebhookCallException($"failed to call webhook: Post \"{url}\": {Describe(e, url)}", e);
        }

        JsonObject? answer;
        try
        {
            answer = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException e)
        {
            throw new WebhookCallException($"received invalid webhook response: {e.Message}", e);
        }

        if (answer?["response"] is not JsonObject result)
        {
            throw new WebhookCallException("received invalid webhook response: response is nil");
        }

        if ((string?)answer["apiVersion"] != "admission.k8s.io/v1" || (string?)answer["kind"] != "AdmissionReview")
        {
            throw new WebhookCallException($"received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got {(string?)answer["apiVersion"]}, Kind={(string?)answer["kind"]}");
        }

        if ((string?)result["uid"] != uid)
        {
            throw new WebhookCallException($"received invalid webhook response: expected response.uid=\"{uid}\", got \"{(string?)result["uid"]}\"");
        }

        foreach (var warning in (result["warnings"] as JsonArray)?.Select(w => (string?)w).OfType<string>() ?? [])
        {
            if (warning.Length > 0)
            {
                attributes.Context.Warn(warning);
            }
        }

        return result;
    }

    /// <summary>Upstream's refusal: the webhook's Status, its message prefixed with the webhook's name, code 400 or more.</summary>
    public static StatusError Denied(Webhook webhook, JsonObject response)
    {
        var status = response["status"] as JsonObject;
        var code = (int?)JsonNumber.Int64(status?["code"]) ?? 0;
        if (code < 400)
        {
            code = 400;
        }

        var deniedBy = $"admission webhook \"{webhook.Name}\" denied the request";
        var message = (string?)status?["message"] is { Length: > 0 } text ? $"{deniedBy}: {text}"
            : (string?)status?["reason"] is { Length: > 0 } reason ? $"{deniedBy}: {reason}"
            : $"{deniedBy} without explanation";
        var causes = (status?["details"]?["causes"] as JsonArray)?.OfType<JsonObject>()
            .Select(c => new StatusCause((string?)c["reason"] ?? string.Empty, (string?)c["message"] ?? string.Empty, (string?)c["field"] ?? string.Empty))
            .ToArray();
        return new StatusError(code, (string?)status?["reason"] ?? string.Empty, message, causes: causes);
    }

    /// <summary>A call failure under failurePolicy Fail: 500, as upstream.</summary>
    public static StatusError CallFailed(Webhook webhook, WebhookCallException failure) =>
        new(500, "InternalError", $"Internal error occurred: failed calling webhook \"{webhook.Name}\": {failure.Message}");

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

    private static JsonObject Review(string uid, AdmissionAttributes attributes) => new()
    {
        ["kind"] = "AdmissionReview",
        ["apiVersion"] = "admission.k8s.io/v1",
        ["request"] = AdmissionRequest.Build(attributes, uid, withObjects: true),
    };

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
        var services = _registry.FindByGroupResource("services");
        var service = services is null ? null : _registry.Get(services, @namespace, name)?.ToNode();
        if (service is null)
        {
            return null;
        }

        var servicePort = (service["spec"]?["ports"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(p => JsonNumber.Int64(p["port"]) == port);
        var portName = (string?)servicePort?["name"] ?? string.Empty;
        var endpointsResource = _registry.FindByGroupResource("endpoints");
        var endpoints = endpointsResource is null ? null : _registry.Get(endpointsResource, @namespace, name)?.ToNode();
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failed calling webhook {Webhook}, failing open: {Reason}")]
    public static partial void LogFailedOpen(ILogger logger, string webhook, string reason);
}
