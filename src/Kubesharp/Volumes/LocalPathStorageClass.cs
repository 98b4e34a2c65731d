using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.Volumes;

/// <summary>
/// The default StorageClass k3s ships: <c>local-path</c>, served by the node agents' built-in provisioner, binding when
/// the first pod is scheduled, deleting data with the claim. Created at server start when absent; an edited or
/// replaced one is left alone.
/// </summary>
internal static class LocalPathStorageClass
{
    public const string Name = "local-path";

    /// <summary>Marks the class the server created, so turning the add-on off removes that one only.</summary>
    private const string ManagedByLabel = "app.kubernetes.io/managed-by";
    private const string ManagedBy = "kubesharp";

    public static StorageClass Create() => new()
    {
        ApiVersion = StorageClass.KubeApiVersion,
        Kind = StorageClass.KubeKind,
        Metadata = new ObjectMeta { Name = Name, Annotations = new() { [VolumeAnnotations.DefaultClass] = "true" }, Labels = new() { [ManagedByLabel] = ManagedBy } },
        Provisioner = VolumeAnnotations.LocalPathProvisioner,
        ReclaimPolicy = "Delete",
        VolumeBindingMode = VolumeAnnotations.WaitForFirstConsumer,
        AllowVolumeExpansion = true,
    };

    /// <summary>Deletes the class the server created (<c>--disable local-storage</c>); one made or replaced by someone else stays.</summary>
    public static async Task RemoveAsync(KubernetesClient client, CancellationToken cancellationToken)
    {
        var classes = client.Resource<StorageClass>();
        try
        {
            var current = await classes.GetAsync(null, Name, cancellationToken).ConfigureAwait(false);
            if (current.Metadata?.Labels?.GetValueOrDefault(ManagedByLabel) == ManagedBy)
            {
                await classes.DeleteAsync(null, Name, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        catch (StatusException e) when (e.IsNotFound())
        {
        }
    }

    /// <summary>Creates the class unless it exists, retrying while the API is not ready yet.</summary>
    public static async Task EnsureAsync(KubernetesClient client, TimeProvider time, Action<Exception> failed, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        for (var attempt = 0; attempt < 50 && !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await client.Resource<StorageClass>().CreateAsync(Create(), cancellationToken: cancellationToken).ConfigureAwait(false);
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
