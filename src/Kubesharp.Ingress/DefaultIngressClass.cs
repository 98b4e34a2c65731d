using Kubesharp.Api.Networking.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.Ingress;

/// <summary>
/// The IngressClass the built-in controller installs (k3s installs traefik's the same way): marked as the cluster's
/// default, so Ingresses naming no class are served. Created when absent; an edited one is left alone.
/// </summary>
public static class DefaultIngressClass
{
    /// <summary>The annotation that makes a class the default of Ingresses without one.</summary>
    public const string IsDefaultAnnotation = "ingressclass.kubernetes.io/is-default-class";

    public static IngressClass Create(string name) => new()
    {
        ApiVersion = IngressClass.KubeApiVersion,
        Kind = IngressClass.KubeKind,
        Metadata = new ObjectMeta { Name = name, Annotations = new() { [IsDefaultAnnotation] = "true" } },
        Spec = new IngressClassSpec { Controller = IngressOptions.ControllerName },
    };

    /// <summary>Creates the class unless it exists, retrying a bounded number of times while the API is not ready.</summary>
    public static async Task EnsureAsync(KubernetesClient client, string name, TimeProvider time, Action<Exception> failed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(failed);
        var delay = TimeSpan.FromMilliseconds(200);
        for (var attempt = 0; attempt < 50 && !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await client.Resource<IngressClass>().CreateAsync(Create(name), cancellationToken: cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (StatusException e) when (e.IsAlreadyExists())
            {
                return;
            }
            catch (Exception e) when (e is StatusException or HttpRequestException or IOException)
            {
                failed(e);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }
}
