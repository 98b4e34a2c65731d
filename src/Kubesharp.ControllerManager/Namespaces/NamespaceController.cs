using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.Client.Discovery;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Namespaces;

/// <summary>
/// Empties terminating namespaces: deletes every namespaced object of every resource discovery lists (custom
/// resources and aggregated APIs included, read as metadata only), reports progress in the namespace's conditions
/// and, once nothing is left, removes the kubernetes finalizer so the namespace goes away.
/// </summary>
internal sealed partial class NamespaceController : IController, IReconciler
{
    public const string KubernetesFinalizer = "kubernetes";

    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private readonly ControllerContext context;
    private readonly DiscoveryClient discovery;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<Namespace> namespaces = null!;

    public NamespaceController(ControllerContext context)
    {
        this.context = context;
        discovery = new DiscoveryClient(context.Client);
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<NamespaceController>();
    }

    public string Name => "namespace";

    public void Register()
    {
        var informer = context.Informers.Informer<Namespace>();
        namespaces = informer.Lister;
        informer.AddEventHandler(ns => Enqueue(ns), (_, ns) => Enqueue(ns));
        syncs.Add(informer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(context.Options.NamespaceWorkers, cancellationToken).ConfigureAwait(false);
    }

    private void Enqueue(Namespace ns)
    {
        if (ns.Metadata?.DeletionTimestamp is not null)
        {
            queue.Add(ns.Metadata.Name!);
        }
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var cached = namespaces.Get(null, key);
        if (cached?.Metadata?.DeletionTimestamp is null || cached.Spec?.Finalizers?.Contains(KubernetesFinalizer) != true)
        {
            return ReconcileResult.Done;
        }

        var remaining = new Dictionary<string, int>(StringComparer.Ordinal);
        var finalizers = new Dictionary<string, int>(StringComparer.Ordinal);
        var errors = new List<string>();
        // A group-version whose discovery fails (an aggregated API whose backend is down) is passed over rather than
        // waited for, unlike upstream: its backend holds its objects, not this server's store.
        // Read afresh on every pass, as upstream does (two requests for the aggregated lists): a CRD established a
        // moment ago has its objects deleted with the namespace.
        var resources = await discovery.ServerPreferredResourcesAsync(cancellationToken).ConfigureAwait(false);
        foreach (var resource in resources.Resources.Where(r => r.Namespaced && r.Verbs.Contains("list") && r.Verbs.Contains("delete")))
        {
            var objects = context.Client.MetadataResource(resource);
            IReadOnlyList<PartialObjectMetadata> items;
            try
            {
                items = (await objects.ListAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false)).Items;
            }
            catch (StatusException e) when (e.IsNotFound() || e.Code == 405)
            {
                // Gone since discovery was read, or not listable here: nothing of it can be in the namespace.
                continue;
            }
            catch (StatusException e)
            {
                errors.Add($"{resource.GroupResource}: {e.Message}");
                continue;
            }

            foreach (var item in items)
            {
                var meta = item.Metadata!;
                if (meta.DeletionTimestamp is null)
                {
                    try
                    {
                        await objects.DeleteAsync(key, meta.Name!, new DeleteOptions { PropagationPolicy = "Background" }, cancellationToken).ConfigureAwait(false);
                    }
                    catch (StatusException e) when (e.IsNotFound())
                    {
                        continue;
                    }
                    catch (StatusException e)
                    {
                        errors.Add($"{resource.GroupResource}: {e.Message}");
                    }
                }

                // Whether the delete finished at once or left a terminating object, the next pass re-lists.
                remaining[resource.GroupResource] = remaining.GetValueOrDefault(resource.GroupResource) + 1;
                foreach (var finalizer in meta.Finalizers ?? [])
                {
                    finalizers[finalizer] = finalizers.GetValueOrDefault(finalizer) + 1;
                }
            }
        }

        var client = context.Client.Resource<Namespace>();
        var ns = ObjectCopy.Clone(cached);
        var conditions = NamespaceConditions.Compute(ns.Status?.Conditions, remaining, finalizers, errors, context.Time.GetUtcNow());
        if (!ObjectCopy.SemanticEquals(new NamespaceStatus { Conditions = ns.Status?.Conditions }, new NamespaceStatus { Conditions = conditions }))
        {
            ns.Status ??= new NamespaceStatus();
            ns.Status.Conditions = conditions;
            try
            {
                ns = await client.UpdateStatusAsync(ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
                return ReconcileResult.Done;
            }
        }

        if (remaining.Count > 0 || errors.Count > 0)
        {
            return ReconcileResult.RequeueIn(RecheckInterval);
        }

        ns.Spec!.Finalizers = ns.Spec.Finalizers!.Where(f => f != KubernetesFinalizer).ToList();
        try
        {
            await client.UpdateSubresourceAsync(null, key, "finalize", ns, cancellationToken).ConfigureAwait(false);
            LogFinalized(logger, key);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
        }

        return ReconcileResult.Done;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Namespace {Name} is empty; removed its kubernetes finalizer")]
    private static partial void LogFinalized(ILogger logger, string name);
}
