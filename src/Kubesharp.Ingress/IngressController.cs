using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.Api.Networking.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Ingress;

/// <summary>
/// The built-in ingress controller: serves the Ingresses of the classes whose controller is
/// <see cref="IngressOptions.ControllerName"/> (and those naming no class while such a class is the default) on its
/// HTTP and HTTPS listeners, and reports its address in their <c>status.loadBalancer</c>. Any change to Ingresses,
/// classes, Services, EndpointSlices or Secrets rebuilds the routes (coalesced over <see cref="IngressOptions.SyncDelay"/>)
/// and swaps them in while the listeners keep running.
/// </summary>
public sealed partial class IngressController : IAsyncDisposable
{
    private const string ClassAnnotation = "kubernetes.io/ingress.class";

    private readonly KubernetesClient client;
    private readonly SharedInformerFactory informers;
    private readonly IngressOptions options;
    private readonly ILoggerFactory loggerFactory;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly ChangeSignal changes;
    private readonly IngressCertificateCache certificates = new();
    private readonly IngressRouteBuilder builder;
    private readonly TaskCompletionSource<IngressListener> started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Gateway.GatewayController? gateway;
    private IngressRoutes routes = IngressRoutes.Empty;
    private long generation;

    public IngressController(KubernetesClient client, SharedInformerFactory informers, IngressOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(informers);
        this.client = client;
        this.informers = informers;
        this.options = options;
        this.loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        logger = this.loggerFactory.CreateLogger<IngressController>();
        time = timeProvider ?? TimeProvider.System;
        changes = new ChangeSignal(options.SyncDelay, this.time);
        var endpoints = new ServiceEndpoints(informers);
        builder = new IngressRouteBuilder(endpoints, informers.Lister<Secret>(), certificates);
        gateway = options.GatewayApi ? new Gateway.GatewayController(client, informers, endpoints, options, this.loggerFactory, time) : null;
        Watch(informers.Informer<Api.Networking.V1.Ingress>());
        Watch(informers.Informer<IngressClass>());
        Watch(informers.Informer<Service>());
        Watch(informers.Informer<EndpointSlice>());
        Watch(informers.Informer<Secret>());
    }

    /// <summary>Completes with the listeners' endpoints once they serve the first routes (ports resolved when 0 was asked for).</summary>
    public async Task<(IPEndPoint Http, IPEndPoint Https)> ListeningAsync(CancellationToken cancellationToken)
    {
        var listener = await started.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return (listener.HttpEndpoint, listener.HttpsEndpoint);
    }

    /// <summary>How many times the routes were rebuilt; tests wait on it instead of sleeping.</summary>
    public long Generation => Interlocked.Read(ref generation);

    internal IngressRoutes Routes => Volatile.Read(ref routes);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (options.InstallDefaultClass)
        {
            await DefaultIngressClass.EnsureAsync(client, IngressOptions.DefaultClassName, time, e => LogDefaultClassFailed(logger, e.Message), cancellationToken).ConfigureAwait(false);
        }

        informers.Start(cancellationToken);
        await informers.WaitForCacheSyncAsync(cancellationToken).ConfigureAwait(false);
        Rebuild();
        IngressListener listener;
        try
        {
            listener = await IngressListener.StartAsync(options, () => Routes, () => gateway?.Routes ?? Ingress.Gateway.GatewayRoutes.Empty, loggerFactory, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            started.TrySetException(e);
            throw;
        }

        // The Gateway API waits for its definitions to be served; Ingresses are served meanwhile.
        var gatewayRun = gateway?.RunAsync(cancellationToken) ?? Task.CompletedTask;

        await using var listenerLifetime = listener.ConfigureAwait(false);
        started.TrySetResult(listener);
        var retry = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            retry = !await UpdateStatusesAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // A failed status write is tried again within a second, changes or not.
                await changes.WaitAsync(retry, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            Rebuild();
        }

        await gatewayRun.ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        certificates.Dispose();
        gateway?.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Watch<T>(SharedInformer<T> informer)
        where T : class, ApiMachinery.IKubernetesObject, ApiMachinery.IKubernetesKind, new() =>
        informer.AddEventHandler(onAdd: _ => Changed(), onUpdate: (_, _) => Changed(), onDelete: _ => Changed());

    private void Changed() => changes.Notify();

    private void Rebuild()
    {
        Volatile.Write(ref routes, builder.Build(Served()));
        certificates.Sweep();
        Interlocked.Increment(ref generation);
    }

    /// <summary>The Ingresses this controller serves.</summary>
    private List<Api.Networking.V1.Ingress> Served()
    {
        var classes = informers.Lister<IngressClass>().List().Where(c => c.Spec?.Controller == IngressOptions.ControllerName).ToList();
        var defaultClass = classes.Any(c => c.Metadata?.Annotations?.GetValueOrDefault(DefaultIngressClass.IsDefaultAnnotation) == "true");
        return [.. informers.Lister<Api.Networking.V1.Ingress>().List().Where(i =>
        {
            var className = i.Spec?.IngressClassName ?? i.Metadata?.Annotations?.GetValueOrDefault(ClassAnnotation);
            return className is null ? defaultClass : classes.Any(c => c.Metadata?.Name == className);
        })];
    }

    /// <summary>Writes this controller's addresses into the served Ingresses and removes them from the others; false when a write failed.</summary>
    private async Task<bool> UpdateStatusesAsync(CancellationToken cancellationToken)
    {
        var served = Served().Select(i => ObjectKey.Of(i)).ToHashSet(StringComparer.Ordinal);
        var ok = true;
        foreach (var ingress in informers.Lister<Api.Networking.V1.Ingress>().List())
        {
            var current = ingress.Status?.LoadBalancer?.Ingress?.Select(i => i.Ip ?? i.Hostname ?? string.Empty).ToList() ?? [];
            IReadOnlyList<string> desired = served.Contains(ObjectKey.Of(ingress)) ? options.StatusAddresses
                : current.SequenceEqual(options.StatusAddresses, StringComparer.Ordinal) ? [] : current;
            if (current.SequenceEqual(desired, StringComparer.Ordinal))
            {
                continue;
            }

            // Cached objects are shared: change a copy.
            var copy = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(ingress, KubernetesJsonContext.Default.NetworkingV1Ingress), KubernetesJsonContext.Default.NetworkingV1Ingress)!;
            copy.Status ??= new IngressStatus();
            copy.Status.LoadBalancer = new IngressLoadBalancerStatus { Ingress = [.. desired.Select(a => new IngressLoadBalancerIngress { Ip = a })] };
            try
            {
                await client.Resource<Api.Networking.V1.Ingress>().UpdateStatusAsync(copy, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
            }
            catch (Exception e) when (e is StatusException or HttpRequestException or IOException)
            {
                LogStatusFailed(logger, ingress.Metadata?.Namespace ?? string.Empty, ingress.Metadata?.Name ?? string.Empty, e.Message);
                ok = false;
            }
        }

        return ok;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not ensure the default IngressClass: {Reason}")]
    private static partial void LogDefaultClassFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not update the status of Ingress {Namespace}/{Name}: {Reason}")]
    private static partial void LogStatusFailed(ILogger logger, string @namespace, string name, string reason);
}
