using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Quota;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Objects;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.ResourceQuotas;

/// <summary>
/// Keeps each ResourceQuota's status (hard as in spec, used as counted from the namespace's objects) current: pods
/// from the informer, other kinds listed through the API. Pod changes requeue their namespace's quotas; other
/// kinds are recounted every <see cref="Recount"/>.
/// </summary>
internal sealed class ResourceQuotaController : IController, IReconciler
{
    private static readonly TimeSpan Recount = TimeSpan.FromSeconds(30);

    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<ResourceQuota> quotas = null!;
    private Lister<Pod> pods = null!;

    public ResourceQuotaController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<ResourceQuotaController>();
    }

    public string Name => "resourcequota";

    public void Register()
    {
        var quotaInformer = context.Informers.Informer<ResourceQuota>();
        var podInformer = context.Informers.Informer<Pod>();
        quotas = quotaInformer.Lister;
        pods = podInformer.Lister;
        // As upstream, only a changed spec is recounted at once, never a status change: admission charges status.used
        // before the object it charged is written, and a recount set off by the charge could count the namespace
        // without that object and undo the charge.
        quotaInformer.AddEventHandler(
            q => queue.Add(ObjectKey.Of(q)),
            (old, q) =>
            {
                if (!ObjectCopy.SemanticEquals(old.Spec ?? new ResourceQuotaSpec(), q.Spec ?? new ResourceQuotaSpec()))
                {
                    queue.Add(ObjectKey.Of(q));
                }
            });
        podInformer.AddEventHandler(EnqueueQuotas, (_, p) => EnqueueQuotas(p), EnqueueQuotas);
        syncs.Add(quotaInformer.WaitForSyncAsync);
        syncs.Add(podInformer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(2, cancellationToken).ConfigureAwait(false);
    }

    private void EnqueueQuotas(Pod pod)
    {
        foreach (var quota in quotas.List(pod.Metadata?.Namespace ?? string.Empty))
        {
            queue.Add(ObjectKey.Of(quota));
        }
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        if (quotas.Get(ns, name) is null)
        {
            return ReconcileResult.Done;
        }

        var path = $"/api/v1/namespaces/{ns}/resourcequotas/{name}";
        var quota = await context.Client.GetJsonAsync(path, cancellationToken).ConfigureAwait(false);
        if (quota is null)
        {
            return ReconcileResult.Done;
        }

        var spec = quota["spec"] as JsonObject;
        var hard = spec?["hard"] as JsonObject ?? [];
        var used = new Dictionary<string, Quantity>(StringComparer.Ordinal);
        foreach (var (resource, _) in hard)
        {
            used[resource] = Quantity.Zero;
        }

        foreach (var groupResource in hard.Select(h => CountedResource(h.Key)).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            foreach (var obj in await ObjectsAsync(groupResource, ns, cancellationToken).ConfigureAwait(false))
            {
                if (!QuotaUsage.Covers(spec, groupResource, obj))
                {
                    continue;
                }

                foreach (var (resource, amount) in QuotaUsage.Of(groupResource, obj))
                {
                    if (used.TryGetValue(resource, out var sum))
                    {
                        used[resource] = sum.Add(amount);
                    }
                }
            }
        }

        var status = new JsonObject
        {
            ["hard"] = hard.DeepClone(),
            ["used"] = new JsonObject(used.OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => KeyValuePair.Create(u.Key, (JsonNode?)u.Value.ToString()))),
        };
        if (!JsonNode.DeepEquals(status, quota["status"]))
        {
            quota["status"] = status;
            try
            {
                await context.Client.SendJsonAsync(HttpMethod.Put, path + "/status", quota, cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e) when (e.Code == 409)
            {
                return ReconcileResult.RequeueIn(TimeSpan.Zero);
            }
        }

        return ReconcileResult.RequeueIn(Recount);
    }

    /// <summary>The resource whose objects a quota key counts ("requests.cpu" counts pods), or null when none.</summary>
    private static string? CountedResource(string key)
    {
        if (key.StartsWith("count/", StringComparison.Ordinal))
        {
            return key["count/".Length..];
        }

        if (key.Contains(".storageclass.storage.k8s.io/", StringComparison.Ordinal) || key is "requests.storage" or "persistentvolumeclaims")
        {
            return "persistentvolumeclaims";
        }

        if (key.StartsWith("services", StringComparison.Ordinal))
        {
            return "services";
        }

        return key switch
        {
            "configmaps" or "secrets" or "replicationcontrollers" or "resourcequotas" => key,
            "pods" or "cpu" or "memory" or "ephemeral-storage" => "pods",
            _ when key.StartsWith("requests.", StringComparison.Ordinal) || key.StartsWith("limits.", StringComparison.Ordinal) => "pods",
            _ => null,
        };
    }

    private async Task<IReadOnlyList<JsonObject>> ObjectsAsync(string groupResource, string ns, CancellationToken cancellationToken)
    {
        if (groupResource == "pods")
        {
            return pods.List(ns).Select(p => (JsonObject)JsonNode.Parse(KubernetesJson.Serialize(p))!).ToList();
        }

        var dot = groupResource.IndexOf('.', StringComparison.Ordinal);
        string basePath;
        if (dot < 0)
        {
            basePath = "/api/v1";
        }
        else
        {
            var group = groupResource[(dot + 1)..];
            var discovery = await context.Client.GetJsonAsync("/apis/" + group, cancellationToken).ConfigureAwait(false);
            if ((string?)discovery?["preferredVersion"]?["groupVersion"] is not { } groupVersion)
            {
                return [];
            }

            basePath = "/apis/" + groupVersion;
        }

        var resource = dot < 0 ? groupResource : groupResource[..dot];
        var list = await context.Client.GetJsonAsync($"{basePath}/namespaces/{ns}/{resource}", cancellationToken).ConfigureAwait(false);
        return (list?["items"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
    }
}
