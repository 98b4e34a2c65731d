using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Authorization;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Nodes;
using Kubesharp.ApiServer.Printing;
using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Kubesharp.ApiServer.Http;

/// <summary>
/// The one request delegate: authentication, health and version, discovery, OpenAPI and resource routing,
/// with every failure answered as a Status.
/// </summary>
internal sealed partial class RequestHandler
{
    private readonly ResourceRegistry _registry;
    private readonly RequestAuthenticator _authenticator;
    private readonly ApiServerHost _host;
    private readonly ILogger _logger;
    private CatalogDiscovery? _catalogDiscovery;
    private readonly ResourceEndpoint _resources;
    private readonly OpenApiEndpoint _openApi;
    private readonly PodConnections _podConnections;
    private readonly ProxySubresources? _proxies;
    private readonly MetricsEndpoint _metrics;
    private readonly Planning.SchedulingPlanEndpoint _plans;
    private readonly History.HistoryEndpoint _history;
    private readonly FlowController? _flowControl;
    private readonly MaxInFlightLimit? _maxInFlight;
    private readonly RequestAuthorizer _authorizer;
    private readonly Audit.Auditor? _auditor;
    private readonly Metrics.RequestMetrics _requestMetrics;

    private static readonly UserInfo AnonymousUser = new(UserInfo.Anonymous, [UserInfo.UnauthenticatedGroup]);

    private readonly Aggregation.ApiAggregator? _aggregator;

    public RequestHandler(ResourceRegistry registry, RequestAuthenticator authenticator, RequestAuthorizer authorizer, ApiServerHost host, OpenApiEndpoint openApi, KubeletClient kubelets, Metrics.ApiServerMetrics metrics, ILogger<RequestHandler> logger, FlowController? flowControl = null, IHttpForwarder? forwarder = null, Audit.Auditor? auditor = null, Aggregation.ApiAggregator? aggregator = null, MaxInFlightLimit? maxInFlight = null)
    {
        _maxInFlight = maxInFlight;
        _aggregator = aggregator;
        _auditor = auditor;
        _requestMetrics = new Metrics.RequestMetrics(metrics, registry);
        _authorizer = authorizer;
        _proxies = forwarder is null ? null : new ProxySubresources(registry, kubelets, forwarder);
        _flowControl = flowControl;
        _podConnections = new PodConnections(registry, kubelets);
        _metrics = new MetricsEndpoint(registry, kubelets);
        _plans = new Planning.SchedulingPlanEndpoint(registry);
        _history = new History.HistoryEndpoint(registry, authorizer);
        _registry = registry;
        _authenticator = authenticator;
        _host = host;
        _logger = logger;
        _resources = new ResourceEndpoint(registry);
        _openApi = openApi;
        _openApi.CustomDocuments = () =>
        {
            CurrentDiscovery(out var custom);
            return custom;
        };
    }

    /// <summary>
    /// Discovery and the custom resources' OpenAPI documents of the current catalog and aggregated APIs, built once per
    /// change of either. A group-version an APIService sends elsewhere is published as its backend serves it.
    /// </summary>
    private DiscoveryDocuments CurrentDiscovery(out CustomResourceOpenApi openApi)
    {
        var current = _registry.Catalog.Current;
        var generation = _aggregator?.Apis.Generation ?? 0;
        var cached = Volatile.Read(ref _catalogDiscovery);
        if (cached is null || !ReferenceEquals(cached.Snapshot, current) || cached.AggregationGeneration != generation)
        {
            var backends = _aggregator?.Apis.All.ToList() ?? [];
            IEnumerable<Kubesharp.ApiMachinery.Discovery.ApiResource> local = [.. current.Resources, .. MetricsResources.All, .. Planning.SchedulingPlanEndpoint.Resources, .. (_registry.History is null ? [] : History.HistoryEndpoint.Resources)];
            var documents = new DiscoveryDocuments([.. local.Where(r => !backends.Any(b => b.Group == r.Group && b.Version == r.Version))], backends);
            cached = new CatalogDiscovery(current, generation, documents, ReferenceEquals(cached?.Snapshot, current) ? cached!.OpenApi : new CustomResourceOpenApi(current));
            Volatile.Write(ref _catalogDiscovery, cached);
        }

        openApi = cached.OpenApi;
        return cached.Documents;
    }

    private sealed record CatalogDiscovery(CatalogSnapshot Snapshot, long AggregationGeneration, DiscoveryDocuments Documents, CustomResourceOpenApi OpenApi);

    private async Task ServeAsync(HttpContext context)
    {
        var auditId = Audit.Auditor.AssignId(context);
        Audit.AuditEvent? audit = null;
        var panic = false;
        try
        {
            var path = RequestPath.Of(context);
            if (Dashboard.DashboardEndpoint.Handles(path))
            {
                // Public static files, matched before the trailing slash is dropped: "/dashboard" redirects to "/dashboard/".
                await Dashboard.DashboardEndpoint.ServeAsync(context, path).ConfigureAwait(false);
                return;
            }

            if (path.Length > 1 && path.EndsWith('/'))
            {
                path = path.TrimEnd('/');
            }

            if (await TryHandlePublicAsync(context, path).ConfigureAwait(false))
            {
                return;
            }

            // One of the server's own components is known by the in-process transport; anyone else by a credential.
            var user = context.Features.Get<InProcess.ITransportIdentityFeature>()?.User
                ?? _authenticator.Authenticate(context.Connection.ClientCertificate, context.Request.Headers.Authorization);
            if (user is null)
            {
                // Without any credential a request is anonymous when --anonymous-auth allows it; a wrong credential is never.
                var presented = context.Connection.ClientCertificate is not null || context.Request.Headers.Authorization.Count > 0;
                if (presented || !_registry.Options.AnonymousAuth)
                {
                    throw new StatusError(401, "Unauthorized", "Unauthorized");
                }

                user = AnonymousUser;
            }

            // Authentication, audit, impersonation, then authorization on the attributes resolved once for the whole pipeline.
            var info = RequestInfo.Resolve(context.Request, path);
            if (_auditor is not null)
            {
                audit = await _auditor.BeginAsync(context, auditId, user, info).ConfigureAwait(false);
                if (audit is not null)
                {
                    context.Items[Audit.AuditEvent.ItemKey] = audit;
                }
            }

            _requestMetrics.Started(context, info);
            user = Impersonation.Resolve(context.Request, user, _authorizer);
            audit?.Impersonated(user);
            context.Items[VirtualResources.UserItem] = user;
            var decision = _authorizer.Authorize(user, info);
            if (audit is not null)
            {
                audit.Annotate("authorization.k8s.io/decision", decision.Allowed ? "allow" : "forbid");
                audit.Annotate("authorization.k8s.io/reason", decision.Reason);
            }

            if (!decision.Allowed)
            {
                // Until the bootstrap policy is in place a refusal may be wrong: ask to come back instead.
                _host.Gate.ThrowIfStarting();
                throw RequestAuthorizer.Forbidden(user, info, decision.Reason);
            }

            await (_flowControl is not null ? _flowControl.ServeAsync(context, user, info, path, RouteAsync)
                : _maxInFlight is not null ? _maxInFlight.ServeAsync(context, user, info, path, RouteAsync)
                : RouteAsync(context, path)).ConfigureAwait(false);
        }
        catch (StatusError error)
        {
            await TryWriteStatusAsync(context, error, audit).ConfigureAwait(false);
        }
        catch (Kubesharp.ApiMachinery.Errors.StatusException error)
        {
            audit?.Failed(error.Code, error.Reason, error.Message);
            if (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                context.Response.Clear();
                await JsonResponses.WriteRawAsync(context, error.Code, error.ToJsonBytes()).ConfigureAwait(false);
            }
        }
        catch (Kubesharp.Storage.ValueTooLargeException ex)
        {
            await TryWriteStatusAsync(context, StatusError.StoredObjectTooLarge(ex.Size, Kubesharp.Storage.IStore.MaxValueBytes), audit).ConfigureAwait(false);
        }
        catch (Kubesharp.Storage.StoreUnavailableException ex)
        {
            // The store cannot keep writes (closed, its files gone): refused, never acknowledged and then lost.
            await TryWriteStatusAsync(context, new StatusError(503, "ServiceUnavailable", $"the datastore cannot serve this request: {ex.Message}", retryAfterSeconds: 1), audit).ConfigureAwait(false);
        }
        catch (Encryption.EncryptionException ex)
        {
            // A stored value no configured key can read: the server's configuration is wrong, not the request.
            LogUnreadable(_logger, ex.Key, ex.Message);
            await TryWriteStatusAsync(context, new StatusError(500, "InternalError", $"Internal error occurred: {ex.Message}"), audit).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex)
        {
            await TryWriteStatusAsync(context, ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? StatusError.TooLarge() : StatusError.BadRequest(ex.Message), audit).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex) when (ex.Source == "System.Text.Json")
        {
            // A field of the wrong JSON type reached a typed read: the body was malformed, not the server.
            await TryWriteStatusAsync(context, StatusError.BadRequest($"the object could not be decoded: {ex.Message}"), audit).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            panic = true;
            LogUnexpected(_logger, context.Request.Method, context.Request.Path.Value ?? string.Empty, ex);
            await TryWriteStatusAsync(context, new StatusError(500, "InternalError", "Internal error occurred: the server could not complete the request"), audit).ConfigureAwait(false);
        }
        finally
        {
            if (audit is not null)
            {
                await FinishAuditAsync(context, audit, panic).ConfigureAwait(false);
            }
        }
    }

    private static async Task FinishAuditAsync(HttpContext context, Audit.AuditEvent audit, bool panic)
    {
        if (audit.ResponseBody is not null && !context.RequestAborted.IsCancellationRequested)
        {
            try
            {
                // The copied response body is whole only once the writer over it has flushed.
                await context.Response.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
            {
            }
        }

        await audit.FinishAsync(context.Response.StatusCode, panic, CancellationToken.None).ConfigureAwait(false);
    }

    private static async Task TryWriteStatusAsync(HttpContext context, StatusError error, Audit.AuditEvent? audit = null)
    {
        audit?.Failed(error.Code, error.Reason, error.Message);
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        context.Response.Clear();
        await JsonResponses.WriteStatusAsync(context, error).ConfigureAwait(false);
    }

    private async Task<bool> TryHandlePublicAsync(HttpContext context, string path)
    {
        if (path == "/version")
        {
            await JsonResponses.WriteAsync(context, 200, VersionInfo()).ConfigureAwait(false);
            return true;
        }

        // The cluster CA, as k3s serves it: a joining agent fetches it and checks it against the pin in its token.
        if (path == JoinToken.CaCertificatesPath)
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(_host.Certificates.CaPem, context.RequestAborted).ConfigureAwait(false);
            return true;
        }

        // Service-account issuer discovery is public, as upstream's system:service-account-issuer-discovery role makes it.
        if (_host.IssuerDiscovery is { } discovery && Security.ServiceAccountTokens.ServiceAccountIssuerDiscovery.Handles(path))
        {
            await discovery.HandleAsync(context, path).ConfigureAwait(false);
            return true;
        }

        return await _host.Health.TryHandleAsync(context, path).ConfigureAwait(false);
    }

    private async Task RouteAsync(HttpContext context, string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var get = HttpMethods.IsGet(context.Request.Method);
        if (segments.Length == 0)
        {
            await JsonResponses.WriteAsync(context, 200, new JsonObject { ["paths"] = new JsonArray("/api", "/api/v1", "/apis", "/healthz", "/livez", "/metrics", "/openapi/v2", "/openapi/v3", "/readyz", "/version") }).ConfigureAwait(false);
            return;
        }

        switch (segments[0])
        {
            case "api":
                if (segments.Length == 1 && get)
                {
                    if (WantsAggregated(context))
                    {
                        await WriteAggregatedDiscoveryAsync(context, CurrentDiscovery(out _).AggregatedCore).ConfigureAwait(false);
                    }
                    else
                    {
                        await JsonResponses.WriteAsync(context, 200, CurrentDiscovery(out _).ApiVersions($"{_host.Url.Host}:{_host.Url.Port}")).ConfigureAwait(false);
                    }

                    return;
                }

                if (segments.Length == 2 && get && CurrentDiscovery(out _).ResourceList(string.Empty, segments[1]) is { } coreList)
                {
                    await JsonResponses.WriteAsync(context, 200, coreList).ConfigureAwait(false);
                    return;
                }

                if (segments.Length >= 3)
                {
                    await RouteResourceAsync(context, string.Empty, segments[1], segments.AsSpan(2).ToArray()).ConfigureAwait(false);
                    return;
                }

                break;
            case "apis":
                if (segments.Length == 1 && get)
                {
                    if (WantsAggregated(context))
                    {
                        await WriteAggregatedDiscoveryAsync(context, CurrentDiscovery(out _).AggregatedGroups).ConfigureAwait(false);
                    }
                    else
                    {
                        await JsonResponses.WriteRawAsync(context, 200, CurrentDiscovery(out _).ApiGroupList).ConfigureAwait(false);
                    }

                    return;
                }

                if (segments.Length == 2 && get && CurrentDiscovery(out _).ApiGroup(segments[1]) is { } group)
                {
                    await JsonResponses.WriteAsync(context, 200, group).ConfigureAwait(false);
                    return;
                }

                if (segments.Length >= 3 && _aggregator?.Apis.Find(segments[1], segments[2]) is { } backend)
                {
                    // A group-version another API server serves: its discovery and resources are its own.
                    _host.Gate.ThrowIfStarting();
                    await _aggregator.Proxy.HandleAsync(context, backend, (UserInfo)context.Items[VirtualResources.UserItem]!).ConfigureAwait(false);
                    return;
                }

                if (segments.Length == 3 && get && CurrentDiscovery(out _).ResourceList(segments[1], segments[2]) is { } list)
                {
                    await JsonResponses.WriteAsync(context, 200, list).ConfigureAwait(false);
                    return;
                }

                if (segments.Length >= 4)
                {
                    await RouteResourceAsync(context, segments[1], segments[2], segments.AsSpan(3).ToArray()).ConfigureAwait(false);
                    return;
                }

                break;
            case Encryption.EncryptionEndpoint.Root when segments is [_, ServerBootstrapEndpoint.Segment]:
                await ServerBootstrapEndpoint.HandleAsync(context, _host, _authenticator).ConfigureAwait(false);
                return;
            case Encryption.EncryptionEndpoint.Root:
                await Encryption.EncryptionEndpoint.HandleAsync(context, _host.SecretsEncryption, segments).ConfigureAwait(false);
                return;
            case "metrics" when get && segments.Length == 1:
                await WriteMetricsAsync(context).ConfigureAwait(false);
                return;
            case "openapi" when get:
                if (await _openApi.TryWriteAsync(context, segments).ConfigureAwait(false))
                {
                    return;
                }

                break;
        }

        throw StatusError.PathNotFound();
    }

    private async Task RouteResourceAsync(HttpContext context, string group, string version, string[] rest)
    {
        _host.Gate.ThrowIfStarting();
        if (group == MetricsResources.Group)
        {
            await _metrics.HandleAsync(context, version, rest).ConfigureAwait(false);
            return;
        }

        if (group == Scheduler.Planning.SchedulingPlan.Group)
        {
            await _plans.HandleAsync(context, version, rest).ConfigureAwait(false);
            return;
        }

        if (group == History.HistoryEndpoint.Group)
        {
            await _history.HandleDeletedAsync(context, version, rest).ConfigureAwait(false);
            return;
        }

        if (!_registry.HasGroupVersion(group, version))
        {
            throw StatusError.PathNotFound();
        }

        if (_proxies is not null && ProxySubresources.TryParse(group, rest, out var proxy))
        {
            RequestPath.CheckNames(new ResourceRequest(_registry.Find(group, version, proxy.Resource)!, proxy.Namespace, proxy.Name, "proxy"));
            await _proxies.HandleAsync(context, proxy).ConfigureAwait(false);
            return;
        }

        // /watch/... is the deprecated form of ?watch=true that older clients still use.
        var legacyWatch = rest.Length >= 2 && rest[0] == "watch";
        if (legacyWatch)
        {
            rest = rest[1..];
        }

        ResourceRequest? request = null;
        if (rest.Length >= 3 && rest[0] == "namespaces" && _registry.Find(group, version, rest[2]) is { Namespaced: true } namespaced)
        {
            if (rest.Length <= 5)
            {
                request = new ResourceRequest(namespaced, rest[1], rest.Length > 3 ? rest[3] : null, rest.Length > 4 ? rest[4] : null);
            }
        }
        else if (_registry.Find(group, version, rest[0]) is { } resource && rest.Length <= 3)
        {
            request = new ResourceRequest(resource, null, rest.Length > 1 ? rest[1] : null, rest.Length > 2 ? rest[2] : null);
            if (resource.Namespaced && request.Name is not null)
            {
                // A namespaced resource addressed without a namespace exists only as a collection.
                request = null;
            }
        }

        if (legacyWatch && request is not null)
        {
            request = request.Subresource is null ? request with { LegacyWatch = true } : null;
        }

        if (request is null)
        {
            throw StatusError.PathNotFound();
        }

        RequestPath.CheckNames(request);
        if (History.HistoryEndpoint.Handles(request))
        {
            await _history.HandleObjectAsync(context, request).ConfigureAwait(false);
            return;
        }

        if (PodConnections.Handles(request))
        {
            await _podConnections.HandleAsync(context, request).ConfigureAwait(false);
            return;
        }

        await _resources.HandleAsync(context, request).ConfigureAwait(false);
    }

    /// <summary>An aggregated discovery list with its entity tag; 304 without a body when the client holds the same list.</summary>
    private static Task WriteAggregatedDiscoveryAsync(HttpContext context, DiscoveryDocuments.TaggedDocument document) =>
        EntityTags.AnswerNotModified(context, document.ETag)
            ? Task.CompletedTask
            : JsonResponses.WriteRawAsync(context, 200, document.Body, DiscoveryDocuments.AggregatedContentType);

    /// <summary>
    /// Whether Accept asks for apidiscovery.k8s.io/v2 before any plain type. Only v2 is served: a client that asks for
    /// v2beta1 first (kubectl 1.27–1.29) gets the plain lists it names next.
    /// </summary>
    private static bool WantsAggregated(HttpContext context)
    {
        foreach (var entry in context.Request.Headers.Accept.ToString().Split(','))
        {
            var parts = entry.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            if (!parts.Contains("as=APIGroupDiscoveryList", StringComparer.Ordinal))
            {
                return false;
            }

            if (parts.Contains("g=apidiscovery.k8s.io", StringComparer.Ordinal) && parts.Contains("v=v2", StringComparer.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public static JsonObject VersionInfo() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.0+kubesharp",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2025-01-01T00:00:00Z",
        ["goVersion"] = "go1.23.0",
        ["compiler"] = "gc",
        ["platform"] = OperatingSystem.IsLinux() ? "linux/amd64" : "unknown",
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "A stored value of {Key} cannot be read: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string key, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure serving {Method} {Path}")]
    private static partial void LogUnexpected(ILogger logger, string method, string path, Exception exception);
}
