using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.ServiceAccounts;

/// <summary>Makes sure every active namespace has a ServiceAccount named default.</summary>
internal sealed class ServiceAccountController : IController, IReconciler
{
    public const string DefaultName = "default";

    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<Namespace> namespaces = null!;
    private Lister<ServiceAccount> serviceAccounts = null!;

    public ServiceAccountController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<ServiceAccountController>();
    }

    public string Name => "serviceaccount";

    public void Register()
    {
        var nsInformer = context.Informers.Informer<Namespace>();
        var saInformer = context.Informers.Informer<ServiceAccount>();
        namespaces = nsInformer.Lister;
        serviceAccounts = saInformer.Lister;
        nsInformer.AddEventHandler(ns => queue.Add(ns.Metadata!.Name!), (_, ns) => queue.Add(ns.Metadata!.Name!));
        saInformer.AddEventHandler(onDelete: sa => queue.Add(sa.Metadata!.Namespace!));
        syncs.Add(nsInformer.WaitForSyncAsync);
        syncs.Add(saInformer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(1, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var ns = namespaces.Get(null, key);
        if (ns is null || ns.Metadata?.DeletionTimestamp is not null || ns.Status?.Phase == "Terminating" || serviceAccounts.Get(key, DefaultName) is not null)
        {
            return ReconcileResult.Done;
        }

        try
        {
            await context.Client.Resource<ServiceAccount>().CreateAsync(
                new ServiceAccount { ApiVersion = "v1", Kind = "ServiceAccount", Metadata = new ObjectMeta { Name = DefaultName, Namespace = key } },
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsAlreadyExists() || e.Code == 403 || e.IsNotFound())
        {
            // Exists already, or the namespace began terminating (forbidden) or vanished meanwhile.
        }

        return ReconcileResult.Done;
    }
}
