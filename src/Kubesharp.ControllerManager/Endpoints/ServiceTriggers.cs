using Kubesharp.Api.Core.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;

namespace Kubesharp.ControllerManager.Endpoints;

/// <summary>Enqueues the Service keys that a Service or Pod change concerns (shared by both endpoint controllers).</summary>
internal static class ServiceTriggers
{
    public static void Register(SharedInformerFactory informers, Action<string> enqueue)
    {
        var services = informers.Lister<Service>();
        informers.Informer<Service>().AddEventHandler(
            onAdd: s => enqueue(ObjectKey.Of(s)),
            onUpdate: (_, s) => enqueue(ObjectKey.Of(s)),
            onDelete: s => enqueue(ObjectKey.Of(s)));

        void ForPod(Pod pod)
        {
            if (pod.Metadata?.Namespace is not { } ns)
            {
                return;
            }

            foreach (var service in EndpointResolver.ServicesFor(services.List(ns), pod))
            {
                enqueue(ObjectKey.Of(service));
            }
        }

        informers.Informer<Pod>().AddEventHandler(
            onAdd: ForPod,
            onUpdate: (old, pod) =>
            {
                // A label change can move a pod out of a Service: both old and new selections are synced.
                ForPod(old);
                ForPod(pod);
            },
            onDelete: ForPod);
    }
}
