using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Certificates;

/// <summary>
/// Keeps the kube-root-ca.crt ConfigMap (key ca.crt: the cluster CA) in every active namespace, as upstream's
/// root-ca-cert-publisher: created when missing, put back when deleted, corrected when changed.
/// </summary>
internal sealed class RootCaPublisherController : IController, IReconciler
{
    public const string ConfigMapName = "kube-root-ca.crt";
    public const string DataKey = "ca.crt";

    private readonly ControllerContext context;
    private readonly string caPem;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<Namespace> namespaces = null!;
    private Lister<ConfigMap> configMaps = null!;

    public RootCaPublisherController(ControllerContext context, string caPem)
    {
        this.context = context;
        this.caPem = caPem;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<RootCaPublisherController>();
    }

    public string Name => "root-ca-certificate-publisher";

    /// <summary>The ConfigMaps the controller holds (for tests): the published ones only.</summary>
    internal Lister<ConfigMap> ConfigMaps => configMaps;

    public void Register()
    {
        var nsInformer = context.Informers.Informer<Namespace>();
        // Only the published ConfigMaps: every other ConfigMap of the cluster is neither held nor decoded here.
        var cmInformer = context.Informers.Informer<ConfigMap>("metadata.name=" + ConfigMapName);
        namespaces = nsInformer.Lister;
        configMaps = cmInformer.Lister;
        nsInformer.AddEventHandler(ns => queue.Add(ns.Metadata!.Name!), (_, ns) => queue.Add(ns.Metadata!.Name!));
        cmInformer.AddEventHandler(
            onUpdate: (_, cm) => EnqueueOwnConfigMap(cm),
            onDelete: EnqueueOwnConfigMap);
        syncs.Add(nsInformer.WaitForSyncAsync);
        syncs.Add(cmInformer.WaitForSyncAsync);
    }

    private void EnqueueOwnConfigMap(ConfigMap configMap)
    {
        if (configMap.Metadata?.Name == ConfigMapName && configMap.Metadata.Namespace is { } ns)
        {
            queue.Add(ns);
        }
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
        if (ns is null || ns.Metadata?.DeletionTimestamp is not null || ns.Status?.Phase == "Terminating")
        {
            return ReconcileResult.Done;
        }

        var client = context.Client.Resource<ConfigMap>();
        var existing = configMaps.Get(key, ConfigMapName);
        try
        {
            if (existing is null)
            {
                await client.CreateAsync(
                    new ConfigMap
                    {
                        ApiVersion = "v1",
                        Kind = "ConfigMap",
                        Metadata = new ObjectMeta { Name = ConfigMapName, Namespace = key },
                        Data = new Dictionary<string, string> { [DataKey] = caPem },
                    },
                    cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            else if (existing.Data is not { Count: 1 } data || !data.TryGetValue(DataKey, out var current) || current != caPem || existing.BinaryData is { Count: > 0 })
            {
                // Replaced whole: the data is the CA and nothing else; labels and annotations others set are kept.
                await client.UpdateAsync(existing with { Data = new Dictionary<string, string> { [DataKey] = caPem }, BinaryData = null }, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        catch (StatusException e) when (e.IsAlreadyExists() || e.Code == 403 || e.IsNotFound())
        {
            // Created meanwhile (its event requeues a check), or the namespace began terminating or vanished.
        }

        return ReconcileResult.Done;
    }
}
