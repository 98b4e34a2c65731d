using System.Net.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Registry;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Aggregation;

/// <summary>
/// Upstream's available-condition controller: sets every APIService's Available condition. Local ones are always
/// available (Local); one backed by a Service needs the Service (ServiceNotFound), the port it names
/// (ServicePortError), a ready endpoint (EndpointsNotFound, MissingEndpoints) and a successful discovery GET of its
/// group-version (FailedDiscoveryCheck, else Passed). The discovery answer is what the aggregated group-version
/// publishes; routing and discovery read the outcome from <see cref="AggregatedApis"/>. Rechecked when the APIService,
/// its Service or its EndpointSlices change, when a proxied request fails to connect, and every 30 seconds.
/// </summary>
internal sealed partial class ApiServiceAvailabilityController(
    ResourceRegistry registry,
    AggregatedApis aggregated,
    ServiceEndpointResolver resolver,
    ApiServiceTransport transport,
    ILogger logger)
{
    /// <summary>The user the discovery check is made as, as upstream's aggregator identifies itself.</summary>
    public const string AggregatorUser = "system:kube-aggregator";

    private const string All = "*";
    private static readonly TimeSpan Resync = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DiscoveryTimeout = TimeSpan.FromSeconds(5);

    private static readonly string[] Watched = ["apiservices.apiregistration.k8s.io", "services", "endpointslices.discovery.k8s.io"];

    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    private ApiResource ApiServices => registry.FindByGroupResource("apiservices.apiregistration.k8s.io")!;

    /// <summary>Asks for the APIService <paramref name="name"/> to be checked again (a proxied request could not reach it).</summary>
    public void Recheck(string name) => _queue.Writer.TryWrite(name);

    /// <summary>Checks every APIService (in the background: a backend that does not answer must not hold start-up), then follows changes until cancelled.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryWrite(All);
        var watches = Watched.Select(r => Task.Run(() => FollowAsync(r, cancellationToken), CancellationToken.None));
        var resync = Task.Run(() => ResyncAsync(cancellationToken), CancellationToken.None);
        var worker = Task.Run(() => RunAsync(cancellationToken), CancellationToken.None);
        return Task.WhenAll([.. watches, resync, worker]);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // Coalesce what queued up meanwhile: each APIService is checked once per round.
                var names = new HashSet<string>(StringComparer.Ordinal);
                while (reader.TryRead(out var name))
                {
                    names.Add(name);
                }

                try
                {
                    if (names.Contains(All))
                    {
                        await CheckAllAsync(cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    foreach (var name in names)
                    {
                        await CheckAsync(name, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    LogFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(Resync, registry.TimeProvider, cancellationToken).ConfigureAwait(false);
                _queue.Writer.TryWrite(All);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Turns changes of one watched resource into checks of the APIServices they concern.</summary>
    private async Task FollowAsync(string groupResource, CancellationToken cancellationToken)
    {
        var cache = registry.Cache.For(groupResource);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using (var subscription = cache.Subscribe(long.MaxValue, registry.Cache.Revision, wantsBookmarks: false, out _, out _, out _))
                {
                    if (subscription is not null)
                    {
                        var reader = subscription.Channel.Reader;
                        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            while (reader.TryRead(out var change))
                            {
                                Route(groupResource, change);
                            }
                        }
                    }
                }

                // The cache was refilled: whatever changed meanwhile is caught by checking everything.
                _queue.Writer.TryWrite(All);
                await Task.Delay(TimeSpan.FromMilliseconds(100), registry.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private void Route(string groupResource, CacheEvent change)
    {
        var obj = change.Object ?? change.Previous;
        if (obj is null)
        {
            return;
        }

        if (groupResource.StartsWith("apiservices.", StringComparison.Ordinal))
        {
            _queue.Writer.TryWrite(obj.Name);
            return;
        }

        var serviceName = groupResource == "services" ? obj.Name : obj.Labels.GetValueOrDefault("kubernetes.io/service-name");
        if (serviceName is null)
        {
            return;
        }

        foreach (var apiService in registry.Cache.For(ApiServices).Snapshot.Values)
        {
            if (apiService.Root.TryGetProperty("spec", out var spec) && spec.TryGetProperty("service", out var service) && service.ValueKind == JsonValueKind.Object &&
                service.TryGetProperty("namespace", out var ns) && ns.GetString() == obj.Namespace &&
                service.TryGetProperty("name", out var name) && name.GetString() == serviceName)
            {
                _queue.Writer.TryWrite(apiService.Name);
            }
        }
    }

    private async Task CheckAllAsync(CancellationToken cancellationToken)
    {
        var present = registry.Cache.For(ApiServices).Snapshot.Values.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var backend in aggregated.All.Where(b => !present.Contains(b.Name)).ToList())
        {
            aggregated.Remove(backend.Name);
        }

        foreach (var name in present)
        {
            await CheckAsync(name, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CheckAsync(string name, CancellationToken cancellationToken)
    {
        var current = registry.Get(ApiServices, null, name);
        if (current is null)
        {
            aggregated.Remove(name);
            return;
        }

        var node = current.ToNode();
        var spec = node["spec"] as JsonObject ?? [];
        var group = (string?)spec["group"] ?? string.Empty;
        var version = (string?)spec["version"] ?? string.Empty;
        if (spec["service"] is not JsonObject service)
        {
            aggregated.Remove(name);
            await SetAvailableAsync(node, true, "Local", "Local APIServices are always available", cancellationToken).ConfigureAwait(false);
            return;
        }

        var ns = (string?)service["namespace"] ?? string.Empty;
        var serviceName = (string?)service["name"] ?? string.Empty;
        var port = (int)(JsonNumber.Int64(service["port"]) ?? 443);
        var previous = aggregated.Find(group, version);
        var backend = new ApiServiceBackend(name, group, version, ns, serviceName, port, (string?)spec["caBundle"] ?? string.Empty,
            spec["insecureSkipTLSVerify"]?.GetValueKind() == JsonValueKind.True, Available: false, previous?.Name == name ? previous.Resources : []);

        var resolution = resolver.Resolve(ns, serviceName, port);
        if (resolution.Endpoint is null)
        {
            Publish(backend, previous);
            await SetAvailableAsync(node, false, resolution.Reason!, resolution.Message!, cancellationToken).ConfigureAwait(false);
            return;
        }

        var (resources, failure) = await DiscoverAsync(backend, resolution, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            Publish(backend, previous);
            await SetAvailableAsync(node, false, "FailedDiscoveryCheck", failure, cancellationToken).ConfigureAwait(false);
            return;
        }

        Publish(backend with { Available = true, Resources = resources! }, previous);
        await SetAvailableAsync(node, true, "Passed", "all checks passed", cancellationToken).ConfigureAwait(false);
    }

    private void Publish(ApiServiceBackend backend, ApiServiceBackend? previous)
    {
        if (previous != backend)
        {
            aggregated.Put(backend);
        }
    }

    /// <summary>GET /apis/GROUP/VERSION of the backend, as the aggregator: its APIResourceList, or why the check failed.</summary>
    private async Task<(IReadOnlyList<ApiResource>? Resources, string? Failure)> DiscoverAsync(ApiServiceBackend backend, ServiceResolution resolution, CancellationToken cancellationToken)
    {
        var path = backend.Group.Length == 0 ? $"/api/{backend.Version}" : $"/apis/{backend.Group}/{backend.Version}";
        var shown = $"https://{resolution.Endpoint switch { System.Net.IPEndPoint ip => ip.ToString(), System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}", var other => other!.ToString() }}{path}";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(DiscoveryTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"https://{backend.Host}:{backend.ServicePort}{path}");
            request.Headers.TryAddWithoutValidation("Accept", "application/json");
            ApiServiceProxy.AddIdentity(request.Headers, new Security.UserInfo(AggregatorUser, ["system:masters"]));
            using var response = await transport.For(backend).SendAsync(request, deadline.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(deadline.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"failing or missing response from {shown}: bad status from {shown}: {(int)response.StatusCode}");
            }

            return (ParseResourceList(backend.Group, backend.Version, body), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"failing or missing response from {shown}: Get \"{shown}\": context deadline exceeded");
        }
        catch (HttpRequestException ex)
        {
            return (null, $"failing or missing response from {shown}: Get \"{shown}\": {Describe(ex)}");
        }
        catch (JsonException ex)
        {
            return (null, $"failing or missing response from {shown}: {ex.Message}");
        }
    }

    private static string Describe(HttpRequestException ex) => ex.InnerException switch
    {
        System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused } => "dial tcp: connect: connection refused",
        System.Security.Authentication.AuthenticationException => "tls: failed to verify certificate: x509: certificate signed by unknown authority",
        { } inner => inner.Message,
        null => ex.Message,
    };

    /// <summary>An APIResourceList as the resources discovery publishes (subresources folded into their parents).</summary>
    internal static List<ApiResource> ParseResourceList(string group, string version, byte[] body)
    {
        var list = JsonNode.Parse(body) as JsonObject ?? throw new JsonException("the discovery document is not an object");
        var items = (list["resources"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var resources = new List<ApiResource>();
        foreach (var item in items.Where(i => ((string?)i["name"])?.Contains('/', StringComparison.Ordinal) == false))
        {
            var name = (string)item["name"]!;
            var kind = (string?)item["kind"] ?? string.Empty;
            var subresources = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var sub in items.Where(i => ((string?)i["name"])?.StartsWith(name + "/", StringComparison.Ordinal) == true))
            {
                subresources[((string)sub["name"]!)[(name.Length + 1)..]] = Strings(sub["verbs"]);
            }

            resources.Add(new ApiResource
            {
                Group = group,
                Version = version,
                Resource = name,
                Kind = kind,
                ListKind = kind + "List",
                SingularName = (string?)item["singularName"] is { Length: > 0 } singular ? singular : kind.ToLowerInvariant(),
                Namespaced = item["namespaced"]?.GetValueKind() == JsonValueKind.True,
                Verbs = Strings(item["verbs"]),
                ShortNames = Strings(item["shortNames"]),
                Categories = Strings(item["categories"]),
                Subresources = subresources,
                DefinitionName = string.Empty,
            });
        }

        return resources;
    }

    private static string[] Strings(JsonNode? node) => (node as JsonArray)?.Select(v => (string?)v).OfType<string>().ToArray() ?? [];

    private async Task SetAvailableAsync(JsonObject apiService, bool available, string reason, string message, CancellationToken cancellationToken)
    {
        var status = available ? "True" : "False";
        var existing = (apiService["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == "Available");
        if (existing is not null && (string?)existing["status"] == status && (string?)existing["reason"] == reason && (string?)existing["message"] == message)
        {
            return;
        }

        var name = (string)apiService["metadata"]!["name"]!;
        var now = registry.Now();
        try
        {
            await registry.UpdateAsync(ApiServices, null, name, current =>
            {
                var node = current.ToNode();
                ((JsonObject)node["metadata"]!).Remove("resourceVersion");
                var statusNode = node["status"] as JsonObject ?? [];
                node["status"] = statusNode;
                var conditions = statusNode["conditions"] as JsonArray ?? [];
                statusNode["conditions"] = conditions;
                var condition = conditions.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == "Available");
                if (condition is null)
                {
                    condition = new JsonObject { ["type"] = "Available" };
                    conditions.Add((JsonNode?)condition);
                }

                if ((string?)condition["status"] != status)
                {
                    condition["lastTransitionTime"] = now;
                }

                condition["status"] = status;
                condition["reason"] = reason;
                condition["message"] = message;
                return node;
            }, "status", dryRun: false, cancellationToken).ConfigureAwait(false);
            LogAvailability(logger, name, status, reason);
        }
        catch (Kubesharp.ApiMachinery.Errors.StatusException ex) when (ex.Code == 404)
        {
            // Deleted meanwhile.
        }
        catch (Http.StatusError ex) when (ex.Code == 404)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "APIService {Name} Available={Status} ({Reason})")]
    private static partial void LogAvailability(ILogger logger, string name, string status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking APIServices failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
