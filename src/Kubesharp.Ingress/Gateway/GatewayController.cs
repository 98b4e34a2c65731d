using System.Text.Json.Nodes;
using System.Threading.Channels;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// The Gateway API side of the built-in ingress controller: installs the GatewayClass, Gateway, HTTPRoute and
/// ReferenceGrant definitions and the default GatewayClass, follows those objects (and the Services, EndpointSlices, Secrets and
/// Namespaces they name), rebuilds <see cref="GatewayRoutes"/> on any change (coalesced over
/// <see cref="IngressOptions.SyncDelay"/>) for the ingress proxy to serve beside the Ingresses, and writes the
/// status of the classes, Gateways and routes it handles.
/// </summary>
internal sealed partial class GatewayController : IDisposable
{
    private readonly KubernetesClient client;
    private readonly SharedInformerFactory informers;
    private readonly IngressOptions options;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly ChangeSignal changes;
    private readonly IngressCertificateCache certificates = new();
    private readonly GatewayRouteBuilder builder;
    private readonly JsonInformer classes;
    private readonly JsonInformer gateways;
    private readonly JsonInformer routes;
    private readonly JsonInformer grants;
    private GatewayRoutes current = GatewayRoutes.Empty;

    public GatewayController(KubernetesClient client, SharedInformerFactory informers, ServiceEndpoints endpoints, IngressOptions options, ILoggerFactory loggerFactory, TimeProvider time)
    {
        this.client = client;
        this.informers = informers;
        this.options = options;
        this.time = time;
        changes = new ChangeSignal(options.SyncDelay, this.time);
        logger = loggerFactory.CreateLogger<GatewayController>();
        builder = new GatewayRouteBuilder(endpoints, informers.Lister<Secret>(), informers.Lister<Namespace>(), certificates);
        classes = new JsonInformer(client, GatewayCustomResources.GatewayClasses, Changed, time, logger);
        gateways = new JsonInformer(client, GatewayCustomResources.Gateways, Changed, time, logger);
        routes = new JsonInformer(client, GatewayCustomResources.HttpRoutes, Changed, time, logger);
        grants = new JsonInformer(client, GatewayCustomResources.ReferenceGrants, Changed, time, logger);
        Watch(informers.Informer<Service>());
        Watch(informers.Informer<EndpointSlice>());
        Watch(informers.Informer<Secret>());
        Watch(informers.Informer<Namespace>());
    }

    /// <summary>What the proxy serves for the attached HTTPRoutes now.</summary>
    public GatewayRoutes Routes => Volatile.Read(ref current);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!await GatewayCustomResources.EnsureAsync(client, options.InstallDefaultClass ? IngressOptions.DefaultGatewayClassName : null, time, e => LogInstallFailed(logger, e.Message), cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            var watches = Task.WhenAll(classes.RunAsync(cancellationToken), gateways.RunAsync(cancellationToken), routes.RunAsync(cancellationToken), grants.RunAsync(cancellationToken));
            await Task.WhenAll(classes.WaitForSyncAsync(cancellationToken), gateways.WaitForSyncAsync(cancellationToken), routes.WaitForSyncAsync(cancellationToken), grants.WaitForSyncAsync(cancellationToken), informers.WaitForCacheSyncAsync(cancellationToken)).ConfigureAwait(false);
            await SyncLoopAsync(cancellationToken).ConfigureAwait(false);
            await watches.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public void Dispose() => certificates.Dispose();

    private async Task SyncLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var (built, statuses) = builder.Build(classes.List(), gateways.List(), routes.List(), new GatewayReferenceGrants(grants.List()), options.StatusAddresses, time.GetUtcNow());
            Volatile.Write(ref current, built);
            certificates.Sweep();
            var retry = !await WriteStatusesAsync(statuses, cancellationToken).ConfigureAwait(false);
            // A failed status write is tried again within a second, changes or not.
            await changes.WaitAsync(retry, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes each status that differs from the cached object's; false when a write failed.</summary>
    private async Task<bool> WriteStatusesAsync(List<GatewayStatusUpdate> statuses, CancellationToken cancellationToken)
    {
        var ok = true;
        foreach (var update in statuses)
        {
            var cached = Cached(update.Path);
            if (cached is null || JsonNode.DeepEquals(cached["status"], update.Status))
            {
                continue;
            }

            try
            {
                await client.PatchJsonAsync(update.Path + "/status", PatchType.Merge, new JsonObject { ["status"] = update.Status.DeepClone() }, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
            }
            catch (Exception e) when (e is StatusException or HttpRequestException or IOException)
            {
                LogStatusFailed(logger, update.Path, e.Message);
                ok = false;
            }
        }

        return ok;
    }

    /// <summary>The cached object an API path names.</summary>
    private JsonObject? Cached(string path)
    {
        var parts = path.Split('/');
        var name = parts[^1];
        return parts[^2] switch
        {
            "gatewayclasses" => classes.Get(null, name),
            "gateways" => gateways.Get(parts[^3], name),
            _ => routes.Get(parts[^3], name),
        };
    }

    private void Watch<T>(SharedInformer<T> informer)
        where T : class, ApiMachinery.IKubernetesObject, ApiMachinery.IKubernetesKind, new() =>
        informer.AddEventHandler(onAdd: _ => Changed(), onUpdate: (_, _) => Changed(), onDelete: _ => Changed());

    private void Changed() => changes.Notify();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not install the Gateway API definitions: {Reason}")]
    private static partial void LogInstallFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not update the status of {Path}: {Reason}")]
    private static partial void LogStatusFailed(ILogger logger, string path, string reason);
}
