using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.ControllerManager.Endpoints;

/// <summary>
/// Keeps each selector Service's EndpointSlices equal to the pods it selects (upstream's endpointslice
/// controller): informer driven, one reconcile per Service key.
/// </summary>
public sealed partial class EndpointSliceController : IReconciler, IDisposable
{
    private readonly KubernetesClient client;
    private readonly SharedInformerFactory informers;
    private readonly ILogger logger;
    private readonly WorkQueue<string> queue;
    private readonly Lister<Service> services;
    private readonly Lister<Pod> pods;
    private readonly Lister<EndpointSlice> slices;

    // Slices written but perhaps not yet in the cache, per Service key: name -> resourceVersion (null: deleted).
    private readonly Dictionary<string, Dictionary<string, string?>> written = new(StringComparer.Ordinal);
    private readonly Lock writtenGate = new();

    public EndpointSliceController(KubernetesClient client, SharedInformerFactory informers, ILogger<EndpointSliceController>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(informers);
        this.client = client;
        this.informers = informers;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(timeProvider), timeProvider);
        services = informers.Lister<Service>();
        pods = informers.Lister<Pod>();
        slices = informers.Lister<EndpointSlice>();
        informers.Informer<EndpointSlice>().AddIndexer(ServiceIndex, s => IsOurs(s) ? [ObjectKey.Of(s.Metadata!.Namespace, s.Metadata.Labels![EndpointSliceLabels.ServiceName])] : []);
        ServiceTriggers.Register(informers, queue.Add);
        informers.Informer<EndpointSlice>().AddEventHandler(
            onAdd: OnSlice,
            onUpdate: (_, s) => OnSlice(s),
            onDelete: OnSlice);
    }

    private const string ServiceIndex = "service";

    public WorkQueue<string> Queue => queue;

    public async Task RunAsync(int workers, CancellationToken cancellationToken)
    {
        informers.Start(cancellationToken);
        await informers.WaitForCacheSyncAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker("endpointslice", queue, this, logger).RunAsync(workers, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        var current = slices.ByIndex(ServiceIndex, key);
        if (!CacheCaughtUp(key, current))
        {
            // The informer has not seen our last writes; acting now could duplicate slices.
            return ReconcileResult.RequeueIn(TimeSpan.FromMilliseconds(200));
        }

        var service = services.Get(ns, name);
        EndpointSlicePlan plan;
        if (service is null || !EndpointResolver.Manages(service))
        {
            plan = new EndpointSlicePlan([], [], current);
        }
        else
        {
            var endpoints = EndpointResolver.Resolve(service, pods.List(ns), EndpointResolver.AddressTypeOf(service));
            plan = EndpointSlicePlanner.Plan(service, endpoints, current);
        }

        if (plan.IsEmpty)
        {
            return ReconcileResult.Done;
        }

        var resources = client.Resource<EndpointSlice>();
        var writes = new Dictionary<string, string?>(StringComparer.Ordinal);
        try
        {
            foreach (var slice in plan.Delete)
            {
                try
                {
                    await resources.DeleteAsync(ns, slice.Metadata!.Name!, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (StatusException e) when (e.IsNotFound())
                {
                }

                writes[slice.Metadata!.Name!] = null;
            }

            foreach (var slice in plan.Update)
            {
                var updated = await resources.UpdateAsync(slice, cancellationToken: cancellationToken).ConfigureAwait(false);
                writes[updated.Metadata!.Name!] = updated.Metadata.ResourceVersion;
            }

            foreach (var slice in plan.Create)
            {
                var created = await resources.CreateAsync(slice, cancellationToken: cancellationToken).ConfigureAwait(false);
                writes[created.Metadata!.Name!] = created.Metadata.ResourceVersion;
            }
        }
        finally
        {
            lock (writtenGate)
            {
                written[key] = writes;
            }
        }

        LogSynced(logger, ns, name, plan.Create.Count, plan.Update.Count, plan.Delete.Count);
        return ReconcileResult.Done;
    }

    private static bool IsOurs(EndpointSlice slice) =>
        slice.Metadata?.Labels is { } labels &&
        labels.TryGetValue(EndpointSliceLabels.ManagedBy, out var by) && by == EndpointSliceLabels.ControllerName &&
        labels.ContainsKey(EndpointSliceLabels.ServiceName);

    private void OnSlice(EndpointSlice slice)
    {
        if (IsOurs(slice))
        {
            queue.Add(ObjectKey.Of(slice.Metadata!.Namespace, slice.Metadata.Labels![EndpointSliceLabels.ServiceName]));
        }
    }

    private bool CacheCaughtUp(string key, IReadOnlyList<EndpointSlice> current)
    {
        lock (writtenGate)
        {
            if (!written.TryGetValue(key, out var writes))
            {
                return true;
            }

            foreach (var (name, rv) in writes)
            {
                var cached = current.FirstOrDefault(s => s.Metadata?.Name == name);
                var seen = rv is null
                    ? cached is null
                    : cached is not null && long.TryParse(cached.Metadata?.ResourceVersion, out var have) && long.TryParse(rv, out var want) && have >= want;
                if (!seen)
                {
                    return false;
                }
            }

            written.Remove(key);
            return true;
        }
    }

    public void Dispose() => queue.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "EndpointSlices of {Namespace}/{Name} synced: {Created} created, {Updated} updated, {Deleted} deleted")]
    private static partial void LogSynced(ILogger logger, string @namespace, string name, int created, int updated, int deleted);
}
