using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.Dns;

/// <summary>
/// The kube-system/kube-dns Service that names cluster DNS (as k3s ships it). It has no selector: every node
/// answers on the address itself (see <see cref="ClusterDnsLink"/>), so the Service carries the
/// service-proxy-name label that tells the service proxy not to program (or reject) it.
/// </summary>
public static class ClusterDnsService
{
    public const string Namespace = "kube-system";
    public const string Name = "kube-dns";

    /// <summary>The proxy name the label carries; no proxy of ours answers to it.</summary>
    public const string NodeLocalProxyName = "kubesharp-node-local-dns";

    private const string ProxyNameLabel = "service.kubernetes.io/service-proxy-name";

    public static Service Desired(string clusterIp) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new ObjectMeta
        {
            Name = Name,
            Namespace = Namespace,
            Labels = new()
            {
                ["k8s-app"] = "kube-dns",
                ["kubernetes.io/cluster-service"] = "true",
                ["kubernetes.io/name"] = "KubeDNS",
                [ProxyNameLabel] = NodeLocalProxyName,
            },
        },
        Spec = new ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = clusterIp,
            ClusterIPs = [clusterIp],
            Ports =
            [
                new ServicePort { Name = "dns", Port = 53, Protocol = "UDP", TargetPort = 53 },
                new ServicePort { Name = "dns-tcp", Port = 53, Protocol = "TCP", TargetPort = 53 },
            ],
        },
    };

    /// <summary>Ensures the Service now and every <paramref name="period"/> (recreating it if deleted) until cancelled.</summary>
    public static async Task KeepAsync(KubernetesClient client, string clusterIp, TimeSpan period, TimeProvider time, Action<Exception> onError, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onError);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await EnsureAsync(client, clusterIp, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
            {
                onError(e);
            }

            try
            {
                await Task.Delay(period, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Deletes the Service when the server made it (it carries the node-local proxy's label), for a server whose DNS add-on
    /// was turned off: a Service of the same name that another DNS deployment brings is left alone.
    /// </summary>
    public static async Task RemoveAsync(KubernetesClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var services = client.Resource<Service>();
        try
        {
            var current = await services.GetAsync(Namespace, Name, cancellationToken).ConfigureAwait(false);
            if (current.Metadata?.Labels?.GetValueOrDefault(ProxyNameLabel) == NodeLocalProxyName)
            {
                await services.DeleteAsync(Namespace, Name, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        catch (StatusException e) when (e.IsNotFound())
        {
        }
    }

    /// <summary>Creates the Service, or repairs it: a wrong cluster IP means delete and recreate, missing labels or ports an update.</summary>
    public static async Task EnsureAsync(KubernetesClient client, string clusterIp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var desired = Desired(clusterIp);
        var services = client.Resource<Service>();
        Service? current;
        try
        {
            current = await services.GetAsync(Namespace, Name, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            current = null;
        }

        if (current is not null && current.Spec?.ClusterIP != clusterIp)
        {
            await services.DeleteAsync(Namespace, Name, cancellationToken: cancellationToken).ConfigureAwait(false);
            current = null;
        }

        if (current is null)
        {
            try
            {
                await services.CreateAsync(desired, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e) when (e.IsAlreadyExists())
            {
            }

            return;
        }

        var labels = current.Metadata!.Labels ?? [];
        var portsMatch = current.Spec!.Ports is { Count: 2 } ports
            && ports.Any(p => p is { Name: "dns", Port: 53, Protocol: "UDP" })
            && ports.Any(p => p is { Name: "dns-tcp", Port: 53, Protocol: "TCP" });
        if (portsMatch && desired.Metadata!.Labels!.All(l => labels.GetValueOrDefault(l.Key) == l.Value) && current.Spec.Selector is not { Count: > 0 })
        {
            return;
        }

        foreach (var label in desired.Metadata!.Labels!)
        {
            labels[label.Key] = label.Value;
        }

        current.Metadata.Labels = labels;
        current.Spec.Selector = null;
        current.Spec.Ports = desired.Spec!.Ports;
        await services.UpdateAsync(current, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
