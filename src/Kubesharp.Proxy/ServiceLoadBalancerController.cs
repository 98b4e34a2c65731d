using System.Text.Json;
using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Proxy;

/// <summary>Fills status.loadBalancer.ingress of LoadBalancer Services with the nodes' addresses (see <see cref="ServiceLoadBalancer"/>).</summary>
public sealed class ServiceLoadBalancerController : IReconciler, IDisposable
{
    private readonly KubernetesClient client;
    private readonly SharedInformerFactory informers;
    private readonly ILogger logger;
    private readonly WorkQueue<string> queue;

    public ServiceLoadBalancerController(KubernetesClient client, SharedInformerFactory informers, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(informers);
        this.client = client;
        this.informers = informers;
        this.logger = logger ?? NullLogger.Instance;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(timeProvider), timeProvider);
        informers.Informer<Service>().AddEventHandler(onAdd: s => queue.Add(ObjectKey.Of(s)), onUpdate: (_, s) => queue.Add(ObjectKey.Of(s)));
        informers.Informer<Node>().AddEventHandler(onAdd: _ => EnqueueAll(), onUpdate: (_, _) => EnqueueAll(), onDelete: _ => EnqueueAll());
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        informers.Start(cancellationToken);
        await informers.WaitForCacheSyncAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker("service-lb", queue, this, logger).RunAsync(1, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        var service = informers.Lister<Service>().Get(ns, name);
        var desired = service is null ? null : ServiceLoadBalancer.DesiredIngress(service, informers.Lister<Node>().List());
        if (service is null || desired is null || ServiceLoadBalancer.IngressEquals(service, desired))
        {
            return ReconcileResult.Done;
        }

        // Cached objects are shared: change a copy.
        var copy = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(service, KubernetesJsonContext.Default.CoreV1Service), KubernetesJsonContext.Default.CoreV1Service)!;
        copy.Status ??= new ServiceStatus();
        copy.Status.LoadBalancer = new LoadBalancerStatus { Ingress = desired };
        await client.Resource<Service>().UpdateStatusAsync(copy, cancellationToken: cancellationToken).ConfigureAwait(false);
        return ReconcileResult.Done;
    }

    public void Dispose() => queue.Dispose();

    private void EnqueueAll()
    {
        foreach (var service in informers.Lister<Service>().List())
        {
            if (service.Spec?.Type == "LoadBalancer")
            {
                queue.Add(ObjectKey.Of(service));
            }
        }
    }
}
