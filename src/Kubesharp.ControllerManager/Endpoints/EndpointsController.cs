using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Objects;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.ControllerManager.Endpoints;

/// <summary>Keeps the core/v1 Endpoints object of each selector Service equal to the pods it selects.</summary>
public sealed partial class EndpointsController : IReconciler, IDisposable
{
    private readonly KubernetesClient client;
    private readonly SharedInformerFactory informers;
    private readonly ILogger logger;
    private readonly WorkQueue<string> queue;
    private readonly Lister<Service> services;
    private readonly Lister<Pod> pods;
    private readonly Lister<global::Kubesharp.Api.Core.V1.Endpoints> endpoints;

    public EndpointsController(KubernetesClient client, SharedInformerFactory informers, ILogger<EndpointsController>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(informers);
        this.client = client;
        this.informers = informers;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(timeProvider), timeProvider);
        services = informers.Lister<Service>();
        pods = informers.Lister<Pod>();
        endpoints = informers.Lister<global::Kubesharp.Api.Core.V1.Endpoints>();
        ServiceTriggers.Register(informers, queue.Add);
        informers.Informer<global::Kubesharp.Api.Core.V1.Endpoints>().AddEventHandler(
            onUpdate: (_, e) => queue.Add(ObjectKey.Of(e)),
            onDelete: e => queue.Add(ObjectKey.Of(e)));
    }

    public async Task RunAsync(int workers, CancellationToken cancellationToken)
    {
        informers.Start(cancellationToken);
        await informers.WaitForCacheSyncAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker("endpoints", queue, this, logger).RunAsync(workers, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        var service = services.Get(ns, name);
        var current = endpoints.Get(ns, name);
        var resource = client.Resource<global::Kubesharp.Api.Core.V1.Endpoints>();
        if (service is null || !EndpointResolver.Manages(service))
        {
            // Endpoints of selector-less Services belong to whoever wrote them; only a deleted Service's go.
            if (service is null && current is not null)
            {
                try
                {
                    await resource.DeleteAsync(ns, name, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (StatusException e) when (e.IsNotFound())
                {
                }
            }

            return ReconcileResult.Done;
        }

        var desired = EndpointsBuilder.Build(service, EndpointResolver.Resolve(service, pods.List(ns), EndpointResolver.AddressTypeOf(service)));
        if (current is null)
        {
            await resource.CreateAsync(desired, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        else if (!ObjectCopy.SemanticEquals(current.Subsets, desired.Subsets) || !ObjectCopy.SemanticEquals(new Dictionary<string, string>(current.Metadata?.Labels ?? []), desired.Metadata!.Labels))
        {
            var changed = ObjectCopy.Clone(current);
            changed.Subsets = desired.Subsets;
            changed.Metadata!.Labels = desired.Metadata!.Labels;
            await resource.UpdateAsync(changed, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        else
        {
            return ReconcileResult.Done;
        }

        LogSynced(logger, ns, name);
        return ReconcileResult.Done;
    }

    public void Dispose() => queue.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Endpoints of {Namespace}/{Name} synced")]
    private static partial void LogSynced(ILogger logger, string @namespace, string name);
}
