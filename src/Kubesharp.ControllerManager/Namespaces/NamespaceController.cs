using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Resources;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Namespaces;

/// <summary>
/// Empties terminating namespaces: deletes every namespaced object, reports progress in the namespace's
/// conditions and, once nothing is left, removes the kubernetes finalizer so the namespace goes away.
/// </summary>
internal sealed partial class NamespaceController : IController, IReconciler
{
    public const string KubernetesFinalizer = "kubernetes";

    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private readonly ControllerContext context;
    private readonly ResourceAccessCatalog catalog;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<Namespace> namespaces = null!;

    public NamespaceController(ControllerContext context, ResourceAccessCatalog catalog)
    {
        this.context = context;
        this.catalog = catalog;
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
        foreach (var access in catalog.All.Where(a => a.Resource.Namespaced && a.Resource.Verbs.Contains("delete")))
        {
            IReadOnlyList<Kubesharp.ApiMachinery.IKubernetesObject> items;
            try
            {
                items = await access.ListAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
                // Not served by this server: nothing of it can be in the namespace.
                continue;
            }
            catch (StatusException e)
            {
                errors.Add($"{access.Resource.GroupResource}: {e.Message}");
                continue;
            }

            foreach (var item in items)
            {
                var meta = item.Metadata!;
                if (meta.DeletionTimestamp is null)
                {
                    try
                    {
                        if (!await access.DeleteAsync(key, meta.Name!, new DeleteOptions { PropagationPolicy = "Background" }, cancellationToken).ConfigureAwait(false))
                        {
                            continue;
                        }
                    }
                    catch (StatusException e)
                    {
                        errors.Add($"{access.Resource.GroupResource}: {e.Message}");
                    }
                }

                // Whether the delete finished at once or left a terminating object, the next pass re-lists.
                remaining[access.Resource.GroupResource] = remaining.GetValueOrDefault(access.Resource.GroupResource) + 1;
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
